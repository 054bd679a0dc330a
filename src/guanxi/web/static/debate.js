// The debate's chart, from the option the page carries.
document.addEventListener("DOMContentLoaded", function () {
  var node = document.getElementById("debate-chart");
  if (!window.echarts || !node) { return; }
  var option = JSON.parse(node.dataset.option);
  // Tooltips drawn on the canvas: ECharts' HTML tooltips use style="…", which the CSP blocks.
  option.tooltip = Object.assign({}, option.tooltip, {renderMode: "richText"});
  window.echarts.init(node).setOption(option);
});
