// The platform's dated figures as a line chart, from the page's JSON data.
(function () {
  var element = document.getElementById("figures-chart");
  if (!element || typeof echarts === "undefined") { return; }
  var data = JSON.parse(document.getElementById("figures-data").textContent);
  var chinese = data.language === "zh_Hans";
  var HALF_YEAR = 182 * 24 * 3600 * 1000;
  // The same units as the tables: 万/亿 in Chinese, m/bn in English.
  function count(value) {
    if (chinese) {
      if (value >= 1e8) { return +(value / 1e8).toFixed(2) + "亿"; }
      if (value >= 1e4) { return +(value / 1e4).toFixed(1) + "万"; }
      return String(value);
    }
    if (value >= 1e9) { return +(value / 1e9).toFixed(2) + " bn"; }
    if (value >= 1e6) { return +(value / 1e6).toFixed(1) + " m"; }
    return String(value);
  }
  var chart = echarts.init(element);
  chart.setOption({
    // Tooltips drawn on the canvas: ECharts' HTML tooltips use style="…", which the CSP blocks.
    tooltip: {
      renderMode: "richText",
      trigger: "item",
      formatter: function (point) { return point.seriesName + "\n" + point.value[0] + ": " + count(point.value[1]); }
    },
    legend: { top: 0 },
    grid: { left: 70, right: 24, top: 48, bottom: 32 },
    // Half a year of room on each side, so points at either end are not cut in half.
    xAxis: {
      type: "time",
      min: function (range) { return range.min - HALF_YEAR; },
      max: function (range) { return range.max + HALF_YEAR; }
    },
    yAxis: { type: "value", min: 0, axisLabel: { formatter: count } },
    series: data.series.map(function (series) {
      return { name: series.name, type: "line", data: series.data, symbolSize: 9 };
    })
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
