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

  // Show exact times in the reader's own time zone on hover.
  function localTimes() {
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      var local = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      var title = el.getAttribute("title");
      el.setAttribute("title", title && title.indexOf("Created") === 0 ? "Created " + local : local);
    });
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
    var els = document.querySelectorAll("[data-due]");
    if (!els.length) return;
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
      els.forEach(function (el) {
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

  function init() {
    caseAddress();
    customFields();
    statusForm();
    replyForm();
    submitShortcut();
    localTimes();
    oneSubmit();
    countdowns();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
