// The queue: filters apply as they change (the search after a pause), the
// bulk bar shows the inputs of the chosen action and counts the selection.
// Without this file the Filter button submits and every bulk input shows.
// A live update replaces the list (flare.js), so it is set up again then.
(function () {
  "use strict";
  function filters(first) {
    var form = document.getElementById("queue-filters");
    if (!form) return;
    var button = document.getElementById("filter-submit");
    if (button) button.hidden = true;
    var timer = null;
    var submit = function () {
      if (timer) clearTimeout(timer);
      timer = null;
      form.submit();
    };
    form.querySelectorAll("select").forEach(function (el) {
      el.addEventListener("change", submit);
    });
    var q = form.querySelector("input[name=q]");
    if (!q) return;
    q.addEventListener("input", function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(submit, 400);
    });
    q.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); submit(); }
    });
    // Keep typing where it was after the page comes back (not after a live update).
    if (first && q.value) {
      q.focus();
      q.setSelectionRange(q.value.length, q.value.length);
    }
  }
  function bulkBar() {
    var bulk = document.getElementById("bulk");
    if (!bulk) return;
    var action = document.getElementById("bulk-action");
    var count = document.getElementById("bulk-count");
    var boxes = document.querySelectorAll("input[name=case][form=bulk]");
    var all = document.getElementById("select-all");
    var sync = function () {
      bulk.querySelectorAll("[data-for]").forEach(function (el) {
        var on = el.getAttribute("data-for") === action.value;
        el.hidden = !on;
        el.disabled = !on;
      });
      var n = 0;
      boxes.forEach(function (b) { if (b.checked) n++; });
      count.textContent = n === 0 ? "Select cases to act on them together:" : n + " selected:";
      document.getElementById("bulk-submit").disabled = n === 0;
    };
    action.addEventListener("change", sync);
    boxes.forEach(function (b) { b.addEventListener("change", sync); });
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = all.checked; });
        sync();
      });
    }
    sync();
  }
  filters(true);
  bulkBar();
  document.addEventListener("flare:live-updated", function () { filters(false); bulkBar(); });
})();
