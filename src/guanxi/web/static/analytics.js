// The analytics pages' charts: each chart element carries its data (data-chart, JSON), so
// the page draws without another request; the table view below each chart has the figures.
// Drawn through GuanxiCharts (charts.js), whose rules every chart follows.
(function () {
  if (!window.echarts) { return; }
  var palette = ["#2b6cb0", "#c05621", "#2f855a", "#805ad5"];
  function compact(value) {
    if (value === null || value === undefined) { return ""; }
    var size = Math.abs(value);
    if (size >= 1e6) { return (value / 1e6).toFixed(1).replace(/\.0$/, "") + "M"; }
    // Below a million the axis writes the figure in full: a follower total moves by tens.
    return (Math.round(value * 100) / 100).toLocaleString("en-US");
  }
  // ``fitted``: the axis spans the figures rather than starting at 0 (a follower total).
  function axis(fitted) {
    return {type: "value", scale: !!fitted, axisLabel: {formatter: compact}, splitLine: {lineStyle: {color: "#eef1f4"}}};
  }
  function options(spec) {
    var twoAxes = spec.series.some(function (s) { return s.right; });
    var horizontal = spec.kind === "bars";
    var series = spec.series.map(function (s, n) {
      var item = {name: s.name, type: (s.bar || horizontal) ? "bar" : "line", data: s.data, connectNulls: true,
                  color: palette[n % palette.length],
                  yAxisIndex: (s.right && !horizontal) ? 1 : 0};
      if (s.dashed) { item.lineStyle = {type: "dashed"}; item.color = palette[(n - 1) % palette.length]; item.showSymbol = false; item.reference = true; }
      return item;
    });
    var category = {type: "category", data: spec.x, name: spec.xname || "", boundaryGap: horizontal || spec.kind === "growth"};
    var base = {
      animation: false,
      tooltip: {trigger: "axis"},
      legend: {top: 0, type: "scroll"},
      grid: {left: 8, right: 20, top: 36, bottom: 8},
      series: series
    };
    if (horizontal) {
      base.legend.show = false;
      base.xAxis = axis();
      base.yAxis = {type: "category", data: spec.x, inverse: true};
    } else {
      base.xAxis = category;
      base.yAxis = twoAxes ? [axis(), axis(spec.kind === "growth")] : axis();
    }
    return base;
  }
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var spec = JSON.parse(element.getAttribute("data-chart"));
    window.GuanxiCharts.draw(element, options(spec));
  });
})();
