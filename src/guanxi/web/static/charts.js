// Every chart in guanxi is drawn through GuanxiCharts.draw, which applies the same rules to
// any ECharts option (built in Python by guanxi.web.charts or in a page's script):
// straight lines with a symbol on every point (a single day shows), numbers on funnels,
// axis labels truncated to fit (the full text is in the tooltip), labels kept inside the
// chart, tooltips drawn on the canvas (ECharts' HTML tooltips use style="…", which the
// content security policy blocks), charts redrawn when the window changes size.
(function () {
  "use strict";
  var LABEL_WIDTH = 130;
  var SYMBOL_SIZE = 6;

  function list(value) { return value === undefined ? [] : [].concat(value); }

  function compact(value) {
    if (value === null || value === undefined) { return ""; }
    var size = Math.abs(value);
    if (size >= 1e9) { return (value / 1e9).toFixed(1).replace(/\.0$/, "") + "B"; }
    if (size >= 1e6) { return (value / 1e6).toFixed(1).replace(/\.0$/, "") + "M"; }
    if (size >= 1e4) { return (value / 1e3).toFixed(1).replace(/\.0$/, "") + "k"; }
    return String(Math.round(value * 100) / 100);
  }

  function fitLabels(axis) {
    if (axis.type !== "category") { return; }
    axis.axisLabel = Object.assign({width: LABEL_WIDTH, overflow: "truncate"}, axis.axisLabel);
  }

  function fixSeries(series) {
    if (series.type === "line") {
      series.smooth = false;
      if (!series.reference) { series.showSymbol = true; }
      if (series.symbolSize === undefined) { series.symbolSize = SYMBOL_SIZE; }
    } else if (series.type === "funnel") {
      // A stage's figure in full, grouped as the page's language writes it (浏览量：1,631,937).
      var lang = document.documentElement.lang || undefined;
      var grouped = new Intl.NumberFormat(lang);
      var colon = /^zh/.test(lang || "") ? "：" : ": ";
      series.label = Object.assign({show: true, position: "inside"}, series.label);
      if (!series.label.formatter) {
        series.label.formatter = function (item) { return item.name + colon + grouped.format(item.value); };
      }
    }
    delete series.reference;
    return series;
  }

  // How a value is written, from an option's "numbers" (guanxi.web.charts.echarts_option):
  // counts compactly as the language writes them (12.3K; 12.3万), percentages (drawn 0-100)
  // with a "%".
  function numberWriter(numbers) {
    var percent = numbers.unit === "percent";
    var written = new Intl.NumberFormat(numbers.locale, percent
      ? {maximumFractionDigits: 1}
      : {notation: "compact", maximumFractionDigits: 1});
    return function (value) {
      if (value === null || value === undefined || value === "-") { return "—"; }
      return written.format(value) + (percent ? "%" : "");
    };
  }

  function writeNumbers(option) {
    if (!option.numbers) { return; }
    var write = numberWriter(option.numbers);
    delete option.numbers;
    option.tooltip.valueFormatter = write;
    list(option.xAxis).concat(list(option.yAxis)).forEach(function (axis) {
      if (axis.type === "value") {
        axis.axisLabel = Object.assign({}, axis.axisLabel, {formatter: write});
      }
    });
  }

  // The rules, applied in place to an option; returns it.
  function normalize(option) {
    option.tooltip = Object.assign({}, option.tooltip, {renderMode: "richText"});
    writeNumbers(option);
    option.grid = list(option.grid).map(function (grid) { return Object.assign({}, grid, {containLabel: true}); });
    if (!option.grid.length) { option.grid = {containLabel: true}; }
    list(option.xAxis).concat(list(option.yAxis)).forEach(fitLabels);
    option.series = list(option.series).map(fixSeries);
    return option;
  }

  function draw(element, option) {
    var chart = window.echarts.init(element);
    chart.setOption(normalize(option));
    window.addEventListener("resize", function () { chart.resize(); });
    element.dataset.ready = "true";  // for tests and for people: the chart is drawn
    return chart;
  }

  // A message in place of a chart (nothing to draw, or something to do first).
  function message(element, text) {
    var note = document.createElement("p");
    note.className = "chart-message muted";
    note.textContent = text;
    element.replaceChildren(note);
    element.dataset.empty = "true";
    element.dataset.ready = "true";
    return note;
  }

  window.GuanxiCharts = {normalize: normalize, draw: draw, message: message, compact: compact};

  // Charts whose whole option the page carries (data-chart-option, JSON).
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart-option]").forEach(function (element) {
      draw(element, JSON.parse(element.dataset.chartOption));
    });
  });
})();
