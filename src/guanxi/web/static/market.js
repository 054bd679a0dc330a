// Market charts (Apache ECharts): rank histories with the rank axis inverted (#1 on top)
// and campaigns marked (a line at the start, a shaded area while it runs); reach over time.
(function () {
  "use strict";

  function readJson(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  // Campaign markers on a series: markLine at each start, markArea over each run.
  function campaignMarks(markers) {
    if (!markers || !markers.length) { return {}; }
    return {
      markLine: {
        symbol: "none",
        label: { formatter: "{b}", position: "insideEndTop" },
        data: markers.map(function (m) {
          return { name: m.name, xAxis: m.start, lineStyle: { color: m.color, width: 2 } };
        })
      },
      markArea: {
        silent: true,
        data: markers.map(function (m) {
          return [{ name: "", xAxis: m.start, itemStyle: { color: m.color, opacity: 0.08 } },
                  { xAxis: m.end }];
        })
      }
    };
  }

  // Every chart follows the shared rules (charts.js): straight lines, every point shown.
  function lineChart(element, options) { return window.GuanxiCharts.draw(element, options); }

  function rankHistory(element, data, labels) {
    var marks = campaignMarks(data.markers);
    var series = data.series.map(function (s, index) {
      var one = { name: s.label || s.country, type: "line", data: s.data, connectNulls: false };
      return index === 0 ? Object.assign(one, marks) : one;
    });
    return lineChart(element, {
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 24, top: 56, bottom: 8 },
      xAxis: { type: "time" },
      yAxis: { type: "value", inverse: true, min: 1, minInterval: 1, name: labels.rank },
      series: series
    });
  }

  function reach(element, data, labels) {
    var marks = campaignMarks(data.markers);
    return lineChart(element, {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 24, top: 56, bottom: 8 },
      xAxis: { type: "time" },
      yAxis: { type: "value", min: 0, minInterval: 1, name: labels.countries },
      series: data.series.map(function (s, index) {
        var one = { name: s.name, type: "line", data: s.data,
                    itemStyle: { color: s.color }, lineStyle: { color: s.color } };
        return index === 0 ? Object.assign(one, marks) : one;
      })
    });
  }

  function effect(element, data, labels) {
    var marks = campaignMarks(data.markers);
    return lineChart(element, {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 24, top: 56, bottom: 8 },
      xAxis: { type: "time" },
      yAxis: { type: "value", inverse: true, min: 1, name: labels.rank },
      series: [
        Object.assign({ name: labels.treated, type: "line", data: data.treated },
                      marks),
        { name: labels.controls, type: "line", data: data.controls,
          lineStyle: { type: "dashed" } }
      ]
    });
  }

  var kinds = { "rank-history": rankHistory, "reach": reach, "effect": effect };
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof echarts === "undefined") { return; }
    document.querySelectorAll("[data-market-chart]").forEach(function (element) {
      var draw = kinds[element.dataset.marketChart];
      var data = readJson(element.dataset.source);
      var labels = readJson(element.dataset.labels) || {};
      if (draw && data) { element.chart = draw(element, data, labels); }
    });
  });
})();
