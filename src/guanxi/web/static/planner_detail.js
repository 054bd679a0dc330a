// The scores as horizontal bars, best at the top, drawn through GuanxiCharts (charts.js).
(function () {
  const element = document.getElementById("plan-chart");
  if (!element || !window.echarts) { return; }
  const data = JSON.parse(element.dataset.chart);
  window.GuanxiCharts.draw(element, {
    grid: { left: 8, right: 24, top: 8, bottom: 24 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: { type: "value", min: 0, max: 100 },
    yAxis: { type: "category", data: data.names.slice().reverse() },
    series: [{ type: "bar", name: data.label, data: data.scores.slice().reverse(), itemStyle: { color: "#c0392b" } }],
  });
})();
