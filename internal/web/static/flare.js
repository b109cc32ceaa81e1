// Flare: progressive enhancement only. Every page works without this file.
(function () {
  "use strict";

  // New case: show only the chosen category's custom fields. Hidden
  // fieldsets are disabled, so their inputs are not submitted either.
  function customFields() {
    var select = document.getElementById("category");
    if (!select) return;
    var sets = document.querySelectorAll("fieldset.custom-fields[data-category]");
    function sync() {
      sets.forEach(function (fs) {
        var on = fs.getAttribute("data-category") === select.value;
        fs.hidden = !on;
        fs.disabled = !on;
      });
    }
    select.addEventListener("change", sync);
    sync();
  }

  // Case page: the resolution only matters when resolving.
  function statusForm() {
    var to = document.getElementById("status-to");
    var box = document.getElementById("resolve-fields");
    if (!to || !box) return;
    var hint = document.getElementById("note-hint");
    var btn = document.getElementById("status-submit");
    function sync() {
      var resolving = to.value === "resolved";
      box.classList.toggle("is-hidden", !resolving);
      document.getElementById("resolution").disabled = !resolving;
      if (hint) hint.hidden = !resolving;
      if (btn) btn.textContent = resolving ? "Resolve case" : "Change status";
    }
    to.addEventListener("change", sync);
    sync();
  }

  // Case page: make an internal note look like one before it is sent.
  function replyForm() {
    var box = document.getElementById("internal");
    var btn = document.getElementById("reply-submit");
    var card = document.getElementById("comment");
    if (!box || !btn || !card) return;
    function sync() {
      card.classList.toggle("is-internal", box.checked);
      btn.textContent = box.checked ? btn.getAttribute("data-note") : btn.getAttribute("data-reply");
    }
    box.addEventListener("change", sync);
    sync();
  }

  // Ctrl/Cmd+Enter in a textarea sends its form.
  function submitShortcut() {
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && t && t.tagName === "TEXTAREA" && t.form) {
        e.preventDefault();
        if (t.form.requestSubmit) t.form.requestSubmit(); else t.form.submit();
      }
    });
  }

  // Times: shown in the viewer's zone (Settings; else the browser's), the
  // exact instant on hover. The server writes UTC into <time datetime>.
  function viewerZone() {
    var tz = document.body.getAttribute("data-tz") || "";
    if (!tz) return undefined;
    try { new Intl.DateTimeFormat(undefined, { timeZone: tz }); return tz; } catch (e) { return undefined; }
  }
  var utcText = /\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC/;
  function localTimes(root) {
    var tz = viewerZone();
    var shortFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short", timeZone: tz });
    var exactFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long", timeZone: tz });
    (root || document).querySelectorAll("time[datetime]").forEach(function (el) {
      if (el.dataset.local) return;
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.dataset.local = "1";
      var exact = exactFmt.format(d);
      if (utcText.test(el.textContent)) el.textContent = el.textContent.replace(utcText, shortFmt.format(d));
      var title = el.getAttribute("title") || "";
      el.setAttribute("title", utcText.test(title) ? title.replace(utcText, exact) : (title && !/\d/.test(title) ? title + " " : "") + exact);
    });
  }

  // <input type=datetime-local> holds wall-clock time in the viewer's zone;
  // the server reads UTC. Values are converted on load and before sending.
  function zoneOffset(ms, tz) { // minutes tz is ahead of UTC at instant ms
    var p = {};
    new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit" }).formatToParts(new Date(ms)).forEach(function (x) { p[x.type] = x.value; });
    return (Date.UTC(+p.year, p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second) - Math.floor(ms / 1000) * 1000) / 60000;
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function wallToUTC(v, tz) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(v);
    if (!m) return v;
    var guess = Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5]);
    var ms = guess - zoneOffset(guess, tz) * 60000;
    ms = guess - zoneOffset(ms, tz) * 60000; // once more across a DST change
    var d = new Date(ms);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + "T" + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }
  function utcToWall(v, tz) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(v);
    if (!m) return v;
    var ms = Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5]);
    var d = new Date(ms + zoneOffset(ms, tz) * 60000);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + "T" + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }
  function zonedInputs() {
    var tz = viewerZone() || Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!tz || tz === "UTC" || tz === "Etc/UTC") return;
    document.querySelectorAll("input[type=datetime-local]").forEach(function (el) {
      if (el.value) el.value = utcToWall(el.value, tz);
      var note = document.createElement("span");
      note.className = "small muted tz-note";
      note.textContent = " (" + tz.replace(/_/g, " ") + ")";
      // A label that says the field is in UTC now says the viewer's zone.
      var label = el.closest("label") || (el.id && document.querySelector('label[for="' + el.id + '"]')) || el.parentNode;
      var said = false;
      if (label) {
        var walk = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
        for (var n = walk.nextNode(); n; n = walk.nextNode()) {
          if (n.nodeValue.indexOf("(UTC)") >= 0) { n.nodeValue = n.nodeValue.replace("(UTC)", note.textContent.trim()); said = true; }
        }
      }
      if (!said && el.parentNode && !el.parentNode.querySelector(".tz-note")) el.insertAdjacentElement("afterend", note);
    });
    document.addEventListener("submit", function (e) {
      e.target.querySelectorAll("input[type=datetime-local]").forEach(function (el) {
        if (!el.value || el.dataset.utc) return;
        // The form may come back with an error; keep what was typed visible.
        var shown = el.value;
        el.value = wallToUTC(shown, tz);
        el.dataset.utc = "1";
        setTimeout(function () { el.value = shown; delete el.dataset.utc; }, 0);
      });
    }, true);
  }

  // Don't send a form twice on a double click.
  function oneSubmit() {
    document.addEventListener("submit", function (e) {
      var f = e.target;
      if (f.dataset.sent) { e.preventDefault(); return; }
      f.dataset.sent = "1";
      setTimeout(function () { delete f.dataset.sent; }, 3000);
    });
  }

  // SLA countdowns: elements with data-due (and data-warn) count down every
  // 30 s. The page's data-now is the server's time when it rendered, so a
  // wrong clock on this computer does not skew the countdowns. The text and
  // the due-ok/warning/breached classes follow ui_funcs.go's clockDue.
  function countdowns() {
    if (!document.querySelector("[data-due]")) return;
    var base = document.querySelector("[data-now]");
    var skew = 0;
    if (base) {
      var server = Date.parse(base.getAttribute("data-now"));
      if (!isNaN(server)) skew = server - Date.now();
    }
    var labels = { ok: "On track", warning: "Due soon", breached: "Breached" };
    function span(ms) {
      var m = Math.floor(Math.max(ms, 0) / 60000);
      if (m < 1) return "<1m";
      if (m < 60) return m + "m";
      if (m < 48 * 60) return Math.floor(m / 60) + "h " + (m % 60) + "m";
      return Math.floor(m / 1440) + "d " + (Math.floor(m / 60) % 24) + "h";
    }
    function tick() {
      var now = Date.now() + skew;
      // Queried each tick: live updates replace the parts that hold them.
      document.querySelectorAll("[data-due]").forEach(function (el) {
        var due = Date.parse(el.getAttribute("data-due"));
        if (isNaN(due)) return;
        var warn = Date.parse(el.getAttribute("data-warn") || "");
        var cls = "ok";
        if (el.classList.contains("due-breached") || now >= due) cls = "breached";
        else if (!isNaN(warn) && now >= warn) cls = "warning";
        var text = cls === "breached" ? "overdue " + span(now - due) : span(due - now);
        ["ok", "warning", "breached"].forEach(function (c) { el.classList.toggle("due-" + c, c === cls); });
        var out = el.querySelector(".due-text") || el;
        if (out.textContent !== text) out.textContent = text;
        var label = el.querySelector(".due-label");
        if (label) label.textContent = labels[cls];
      });
    }
    tick();
    setInterval(tick, 30000);
  }

  // Case page: a form that failed re-renders the page at the form's
  // address (/cases/ESC-3003/transitions); show the case's own address,
  // so that reload, copy and back behave.
  function caseAddress() {
    var el = document.getElementById("case-page");
    var here = el && el.getAttribute("data-here");
    if (here && location.pathname !== here && window.history.replaceState) {
      history.replaceState(null, "", here + location.hash);
    }
  }

  // The phone layout's menu button opens the left navigation.
  function menu() {
    var btn = document.getElementById("menu-btn");
    if (!btn) return;
    btn.addEventListener("click", function () {
      var open = document.body.classList.toggle("nav-open");
      btn.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) { var a = document.querySelector("#sidenav a"); if (a) a.focus(); }
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && document.body.classList.contains("nav-open")) {
        document.body.classList.remove("nav-open");
        btn.setAttribute("aria-expanded", "false");
        btn.focus();
      }
    });
  }

  // Live: the stream (GET /api/v1/stream) says what changed; the page
  // re-fetches itself and swaps in the parts that changed, leaving alone
  // any part the user is typing in.
  var caseRef = (/^\/cases\/([A-Za-z]+-\d+)$/.exec(location.pathname) || [])[1] || "";
  var incidentRef = (/^\/incidents\/([A-Za-z]+-\d+)/.exec(location.pathname) || [])[1] || "";
  function editing(el) {
    var a = document.activeElement;
    if (a && a !== document.body && el.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)) return true;
    var dirty = false;
    el.querySelectorAll("textarea, input[type=text], input[type=search]").forEach(function (f) { if (f.value !== f.defaultValue) dirty = true; });
    // A selection in progress (the queue's bulk checkboxes) is kept too.
    el.querySelectorAll("input[type=checkbox]").forEach(function (f) { if (f.checked !== f.defaultChecked) dirty = true; });
    return dirty;
  }
  function swap(cur, next) {
    if (!cur || !next || editing(cur) || cur.innerHTML === next.innerHTML) return false;
    cur.innerHTML = next.innerHTML;
    localTimes(cur);
    return true;
  }
  var refreshing = false, again = false, againScope = "";
  function refresh(scope) {
    if (refreshing) { again = true; if (scope === "page") againScope = "page"; return; }
    refreshing = true;
    fetch(location.href, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("status " + r.status);
      return r.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      swap(document.getElementById("sidenav"), doc.getElementById("sidenav"));
      swap(document.getElementById("live-banner"), doc.getElementById("live-banner"));
      var bell = document.getElementById("nav-bell"), nbell = doc.getElementById("nav-bell");
      if (bell && nbell) bell.outerHTML = nbell.outerHTML;
      if (scope === "page") {
        var main = document.getElementById("main"), nmain = doc.getElementById("main");
        if (caseRef) {
          // The case page: its parts, each unless it is being edited.
          ["case-status", "timeline", "sla", "handoffs", "escalation", "case-owner"].forEach(function (id) {
            var cur = document.getElementById(id);
            if (swap(cur, doc.getElementById(id)) && id === "timeline") cur.classList.add("live-flash");
          });
          // The split layout's list pane: its rows change as the list does.
          var pane = document.getElementById("list-pane");
          var top = pane ? pane.scrollTop : 0;
          if (swap(pane, doc.getElementById("list-pane"))) {
            pane.scrollTop = top;
            openRow(false);
            document.dispatchEvent(new CustomEvent("flare:live-updated"));
          }
          var dl = document.querySelector("main .details"), ndl = doc.querySelector("main .details");
          swap(dl, ndl);
        } else if (main && nmain) {
          var sel = document.querySelector("main tr.kb-current a");
          var keep = sel ? sel.getAttribute("href") : "";
          if (swap(main, nmain)) {
            rows(); // the j/k selection survives a refresh
            if (keep) { var a = document.querySelector('main table.queue a[href="' + keep + '"]'); if (a) select(a.closest("tr"), false); }
            document.dispatchEvent(new CustomEvent("flare:live-updated"));
          }
        }
      }
      document.body.setAttribute("data-live-at", String(Date.now()));
    }).catch(function () { /* the next note tries again */ }).then(function () {
      refreshing = false;
      if (again) { var sc = againScope || "shell"; again = false; againScope = ""; setTimeout(function () { refresh(sc); }, 300); }
    });
  }
  function presence(viewers) {
    var box = document.getElementById("presence");
    if (!box) {
      var h1 = document.querySelector("main h1");
      if (!h1) return;
      box = document.createElement("span");
      box.id = "presence";
      box.className = "presence";
      box.setAttribute("role", "status");
      h1.insertAdjacentElement("afterend", box);
    }
    if (!viewers || !viewers.length) { box.hidden = true; box.textContent = ""; return; }
    var names = viewers.map(function (v) { return v.name; });
    box.textContent = "";
    viewers.slice(0, 3).forEach(function (v) {
      var av = document.createElement("span");
      av.className = "avatar";
      av.setAttribute("aria-hidden", "true");
      av.textContent = v.name.split(/\s+/).map(function (w) { return w.charAt(0); }).join("").slice(0, 2).toUpperCase();
      box.appendChild(av);
    });
    var text = names.length === 1 ? names[0] + " is viewing" :
      names.length === 2 ? names[0] + " and " + names[1] + " are viewing" : names[0] + " and " + (names.length - 1) + " others are viewing";
    box.appendChild(document.createTextNode(text));
    box.title = names.join(", ");
    box.hidden = false;
  }
  function live() {
    if (!document.body.getAttribute("data-live") || !window.EventSource) return;
    var status = document.getElementById("live-status");
    var url = "/api/v1/stream" + (caseRef ? "?case=" + encodeURIComponent(caseRef) : "");
    var es = new EventSource(url);
    es.onopen = function () { if (status) { status.classList.add("is-on"); status.title = "Live: this page updates by itself"; } document.body.setAttribute("data-live-on", "1"); };
    es.onerror = function () { if (status) { status.classList.remove("is-on"); status.title = "Reconnecting…"; } };
    // A list, or a case beside its list (the split layout): every case's change may matter.
    var listPage = (!caseRef && !incidentRef) || !!document.getElementById("list-pane");
    es.addEventListener("case", function (m) {
      var n = JSON.parse(m.data);
      refresh(listPage || n.case === caseRef ? "page" : "shell");
    });
    es.addEventListener("incident", function (m) {
      var n = JSON.parse(m.data);
      refresh(incidentRef === n.incident || /^\/incidents\/?$/.test(location.pathname) ? "page" : "shell");
    });
    es.addEventListener("presence", function (m) { presence(JSON.parse(m.data).viewers); });
    es.addEventListener("reload", function () { refresh("page"); });
    window.addEventListener("pagehide", function () { es.close(); });
  }

  // Keyboard: j/k move through a list, Enter opens, r reply, n internal
  // note, a assign to me, e escalate, / search, ? the list, Ctrl+K jump.
  var current = null;
  function rows() {
    return Array.prototype.filter.call(document.querySelectorAll("main table.queue tbody tr"), function (tr) {
      return tr.querySelector("a[href]") && tr.offsetParent !== null; // not a hidden list pane's
    });
  }
  function select(tr, focus) {
    if (current) current.classList.remove("kb-current");
    current = tr;
    if (!tr) return;
    tr.classList.add("kb-current");
    if (focus !== false) {
      var a = tr.querySelector(".col-title a") || tr.querySelector("a[href]");
      a.focus({ preventScroll: true });
      tr.scrollIntoView({ block: "nearest" });
    }
  }
  function move(by) {
    var rs = rows();
    if (!rs.length) return false;
    var i = rs.indexOf(current);
    i = i < 0 ? (by > 0 ? 0 : rs.length - 1) : Math.min(rs.length - 1, Math.max(0, i + by));
    select(rs[i]);
    return true;
  }
  // The split layout: the open case's row in the list pane is the j/k
  // selection, scrolled into the pane's view on load.
  function openRow(scroll) {
    var pane = document.getElementById("list-pane");
    var tr = pane && pane.querySelector("tr.is-open");
    if (!tr || tr.offsetParent === null) return; // no pane, or hidden (narrow screens)
    select(tr, false);
    if (scroll !== false && pane.scrollHeight > pane.clientHeight) {
      var off = tr.getBoundingClientRect().top - pane.getBoundingClientRect().top;
      if (off < 60 || off > pane.clientHeight - 60) pane.scrollTop += off - pane.clientHeight / 3;
    }
  }
  function composer(internal) {
    var form = document.getElementById("reply-form");
    if (!form) return false;
    var box = document.getElementById("internal");
    if (box && box.checked !== internal && !box.disabled) { box.checked = internal; box.dispatchEvent(new Event("change")); }
    if (internal && !box) return false;
    var ta = form.querySelector("textarea");
    if (!ta) return false;
    ta.scrollIntoView({ block: "center" });
    ta.focus();
    return true;
  }
  function clickIt(id) {
    var el = document.getElementById(id);
    if (!el) return false;
    el.click();
    return true;
  }
  function escalate() {
    var sum = document.getElementById("escalate-open");
    if (!sum) return false;
    var det = sum.closest("details");
    if (det) det.open = true;
    var f = document.querySelector("#escalate-form select, #escalate-form textarea");
    (f || sum).focus();
    det && det.scrollIntoView({ block: "center" });
    return true;
  }
  function searchBox() {
    var q = document.querySelector('main form[role=search] input[name=q], main input[type=search]');
    if (q) { q.focus(); q.select && q.select(); return true; }
    try { sessionStorage.setItem("flare-search", "1"); } catch (e) { /* private mode */ }
    location.href = "/cases";
    return true;
  }
  function showDialog(id) {
    var d = document.getElementById(id);
    if (!d || d.open) return false;
    if (d.showModal) d.showModal(); else d.setAttribute("open", "");
    return true;
  }
  function keyboard() {
    try {
      if (sessionStorage.getItem("flare-search")) {
        sessionStorage.removeItem("flare-search");
        var q = document.querySelector("main input[name=q]");
        if (q) q.focus();
      }
    } catch (e) { /* private mode */ }
    document.addEventListener("keydown", function (e) {
      if (e.defaultPrevented || e.isComposing) return;
      if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "k" || e.key === "K")) {
        e.preventDefault();
        palette();
        return;
      }
      var t = e.target;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      if (document.querySelector("dialog[open]")) return;
      var done = false;
      switch (e.key) {
      case "j": done = move(1); break;
      case "k": done = move(-1); break;
      case "Enter":
        if (current && !current.classList.contains("is-open") && (t === document.body || current.contains(t)) && t.tagName !== "A") {
          (current.querySelector(".col-title a") || current.querySelector("a[href]")).click();
          done = true;
        }
        break;
      case "r": done = composer(false); break;
      case "n": done = composer(true); break;
      case "a": done = clickIt("assign-me"); break;
      case "e": done = escalate(); break;
      case "/": done = searchBox(); break;
      case "?": done = showDialog("kb-help"); break;
      }
      if (done) e.preventDefault();
    });
    var pb = document.getElementById("palette-btn");
    if (pb) pb.addEventListener("click", palette);
  }

  // The command palette: pages from the navigation, actions on this page,
  // a case by number, and cases by search.
  var paletteReady = false;
  function palette() {
    var d = document.getElementById("palette");
    if (!d) return;
    var input = document.getElementById("palette-input"), list = document.getElementById("palette-list");
    var items = [], sel = 0, seq = 0;
    function base() {
      var out = [];
      document.querySelectorAll("#sidenav a[href]").forEach(function (a) {
        out.push({ label: a.childNodes[0].textContent.trim(), kind: "Page", href: a.getAttribute("href") });
      });
      var acts = [
        { label: "New case", kind: "Action", href: "/cases/new", when: !!document.querySelector('a[href="/cases/new"]') },
        { label: "Reply", kind: "Action", key: "r", when: !!document.getElementById("reply-form") },
        { label: "Internal note", kind: "Action", key: "n", when: !!document.getElementById("internal") },
        { label: "Assign to me", kind: "Action", key: "a", when: !!document.getElementById("assign-me") },
        { label: "Escalate", kind: "Action", key: "e", when: !!document.getElementById("escalate-open") },
        { label: "Notifications", kind: "Page", href: "/notifications", when: true },
        { label: "Keyboard shortcuts", kind: "Help", key: "?", when: true }
      ];
      acts.forEach(function (x) { if (x.when) out.push(x); });
      return out;
    }
    function render() {
      list.textContent = "";
      items.forEach(function (it, i) {
        var li = document.createElement("li");
        li.id = "pal-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", i === sel ? "true" : "false");
        var l = document.createElement("span"); l.textContent = it.label; li.appendChild(l);
        var k = document.createElement("span"); k.className = "pal-kind"; k.textContent = it.kind; li.appendChild(k);
        li.addEventListener("click", function () { go(it); });
        list.appendChild(li);
      });
      if (items.length) input.setAttribute("aria-activedescendant", "pal-" + sel); else input.removeAttribute("aria-activedescendant");
    }
    function go(it) {
      d.close();
      if (it.href) { location.href = it.href; return; }
      if (it.key === "?") { showDialog("kb-help"); return; }
      if (it.key) document.dispatchEvent(new KeyboardEvent("keydown", { key: it.key, bubbles: true }));
    }
    function update() {
      var q = input.value.trim(), ql = q.toLowerCase(), my = ++seq;
      items = base().filter(function (it) { return !ql || it.label.toLowerCase().indexOf(ql) >= 0; });
      var num = /^(?:([a-z]+)-)?(\d+)$/i.exec(q);
      if (num) items.unshift({ label: "Open case " + (num[1] ? num[1].toUpperCase() : "ESC") + "-" + num[2], kind: "Case", href: "/cases/" + (num[1] ? num[1].toUpperCase() : "ESC") + "-" + num[2] });
      if (q.length >= 2 && !num) items.push({ label: "Search cases for “" + q + "”", kind: "Search", href: "/cases?q=" + encodeURIComponent(q) });
      sel = 0;
      render();
      if (q.length >= 3 && !num) {
        fetch("/api/v1/cases?limit=5&q=" + encodeURIComponent(q), { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : { cases: [] }; })
          .then(function (page) {
            if (my !== seq) return;
            (page.cases || []).forEach(function (c) { items.push({ label: c.number + " " + c.title, kind: "Case", href: "/cases/" + c.number }); });
            render();
          }).catch(function () {});
      }
    }
    if (!paletteReady) {
      paletteReady = true;
      input.addEventListener("input", update);
      input.addEventListener("keydown", function (e) {
        if (e.key === "ArrowDown" || e.key === "ArrowUp") {
          e.preventDefault();
          if (!items.length) return;
          sel = (sel + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
          render();
          var li = document.getElementById("pal-" + sel); if (li) li.scrollIntoView({ block: "nearest" });
        } else if (e.key === "Enter") {
          e.preventDefault();
          if (items[sel]) go(items[sel]);
        } else if (e.key === "Escape") {
          e.preventDefault();
          d.close();
        }
      });
      d.addEventListener("click", function (e) { if (e.target === d) d.close(); });
      palette.update = update;
    }
    input.value = "";
    if (!d.open) d.showModal ? d.showModal() : d.setAttribute("open", "");
    palette.update();
    input.focus();
  }

  function browserZone() {
    var el = document.getElementById("browser-tz");
    if (el) el.textContent = Intl.DateTimeFormat().resolvedOptions().timeZone;
  }

  function init() {
    caseAddress();
    customFields();
    statusForm();
    replyForm();
    submitShortcut();
    localTimes(document);
    oneSubmit();
    countdowns();
    zonedInputs();
    menu();
    keyboard();
    openRow();
    browserZone();
    live();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
