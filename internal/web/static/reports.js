// Flare's report charts: every element with data-chart is drawn by Apache
// ECharts (static/vendor/echarts.min.js) from the JSON at its data-src —
// the same /api/v1/reports endpoints the CSV links export. No inline
// script (the pages' CSP), no third-party host.
(function () {
  "use strict";
  var days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  var hours = [];
  for (var h = 0; h < 24; h++) hours.push((h < 10 ? "0" : "") + h + ":00");

  var builders = {
    // Line: intake, resolved and backlog per day.
    days: function (d) {
      return {
        tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 48, right: 16, top: 32, bottom: 28 },
        xAxis: { type: "category", data: d.days.map(function (x) { return x.day; }) },
        yAxis: { type: "value" },
        series: [
          { name: "Intake", type: "line", data: d.days.map(function (x) { return x.intake; }) },
          { name: "Resolved", type: "line", data: d.days.map(function (x) { return x.resolved; }) },
          { name: "Backlog", type: "line", data: d.days.map(function (x) { return x.backlog; }) }
        ]
      };
    },
    // Bar: intake by category, this period beside the previous.
    categories: function (d) {
      var top = d.categories.slice(0, 12).reverse();
      return {
        tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 170, right: 16, top: 32, bottom: 24 },
        yAxis: { type: "category", data: top.map(function (x) { return x.key; }) },
        xAxis: { type: "value" },
        series: [
          { name: "Previous period", type: "bar", data: top.map(function (x) { return x.previous; }) },
          { name: "This period", type: "bar", data: top.map(function (x) { return x.value; }) }
        ]
      };
    },
    // Stacked bar: SLA clocks met and breached per team.
    team_sla: function (d) {
      return {
        tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 48, right: 16, top: 32, bottom: 28 },
        xAxis: { type: "category", data: d.team_sla.map(function (x) { return x.team; }) },
        yAxis: { type: "value" },
        series: [
          { name: "Met", type: "bar", stack: "sla", color: "#16a34a", data: d.team_sla.map(function (x) { return x.met; }) },
          { name: "Breached", type: "bar", stack: "sla", color: "#dc2626", data: d.team_sla.map(function (x) { return x.breached; }) }
        ]
      };
    },
    // Heat map: intake by weekday and hour.
    heat: function (d) { return heat(d.heat, "Intake (" + d.zone + ")"); },
    // Heat map of agents needed (the staffing view's first market).
    staffing: function (d) {
      var m = d.markets[0], grid = [];
      for (var i = 0; i < 7; i++) grid.push(new Array(24).fill(0));
      (m ? m.hours : []).forEach(function (c) { grid[c.weekday][c.hour] = c.agents; });
      return heat(grid, "Agents needed");
    },
    // Bar: backlog and breaches per market (the live dashboard).
    markets: function (d) {
      return {
        tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 48, right: 16, top: 32, bottom: 28 },
        xAxis: { type: "category", data: d.markets.map(function (x) { return x.market; }) },
        yAxis: { type: "value" },
        series: [
          { name: "Backlog", type: "bar", data: d.markets.map(function (x) { return x.backlog; }) },
          { name: "Breached", type: "bar", color: "#dc2626", data: d.markets.map(function (x) { return x.breached; }) },
          { name: "Breaching next hour", type: "bar", color: "#f59e0b", data: d.markets.map(function (x) { return x.breaching_next_hour; }) }
        ]
      };
    }
  };

  function heat(grid, label) {
    var data = [], max = 0;
    for (var d = 0; d < 7; d++) for (var h = 0; h < 24; h++) {
      data.push([h, d, grid[d][h]]);
      if (grid[d][h] > max) max = grid[d][h];
    }
    return {
      tooltip: { position: "top" }, grid: { left: 48, right: 16, top: 16, bottom: 64 },
      xAxis: { type: "category", data: hours, splitArea: { show: true } },
      yAxis: { type: "category", data: days, inverse: true, splitArea: { show: true } },
      visualMap: { min: 0, max: max || 1, calculable: true, orient: "horizontal", left: "center", bottom: 0, text: [label, ""] },
      series: [{ name: label, type: "heatmap", data: data, label: { show: false } }]
    };
  }

  function draw(el) {
    var build = builders[el.getAttribute("data-chart")];
    if (!build || typeof echarts === "undefined") return;
    fetch(el.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (d) {
        var chart = echarts.init(el, null, { renderer: "canvas" });
        chart.setOption(build(d));
        el.setAttribute("data-drawn", "true");
        window.addEventListener("resize", function () { chart.resize(); });
      })
      .catch(function (e) {
        el.textContent = "The chart could not be loaded (" + e.message + ").";
        el.setAttribute("data-drawn", "error");
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(draw);
  });
})();
