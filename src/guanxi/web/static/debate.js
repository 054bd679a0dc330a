// The debate's chart, from the option the page carries.
document.addEventListener("DOMContentLoaded", function () {
  var node = document.getElementById("debate-chart");
  if (window.echarts && node) { window.echarts.init(node).setOption(JSON.parse(node.dataset.option)); }
});
