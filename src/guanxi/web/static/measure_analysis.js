// Analysis charts (Apache ECharts): each group's mean engagement rate with its 95% interval
// against the average of all posts, and the best-time heatmap (hours with too few posts
// drawn grey with their count, never coloured as if known). The figures are the page's own,
// embedded as JSON; every chart has a table view beside it.
(function () {
  "use strict";

  function readJson(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : (value * 100).toFixed(2) + "%";
  }

  function draw(element, options) {
    var chart = echarts.init(element);
    chart.setOption(options);
    window.addEventListener("resize", function () { chart.resize(); });
    element.dataset.ready = "1";  // for tests and for people: the chart is drawn
  }

  // A box from the interval's low to its high end, the mean as its middle line; a group
  // without an interval (too few posts) is a lone point.
  function intervals(element, data) {
    var boxes = data.mean.map(function (mean, i) {
      if (data.low[i] === null || mean === null) { return "-"; }
      return [data.low[i], data.low[i], mean, data.high[i], data.high[i]];
    });
    var points = data.mean.map(function (mean, i) {
      return data.low[i] === null && mean !== null ? mean : "-";
    });
    var horizontal = data.labels.length > 8;
    var categoryAxis = { type: "category", data: data.labels, axisLabel: { interval: 0 } };
    var valueAxis = { type: "value",
                      axisLabel: { formatter: function (v) { return (v * 100).toFixed(1) + "%"; } } };
    if (!data.signed) { valueAxis.min = 0; }  // rates start at zero; lifts go both ways
    draw(element, {
      tooltip: {
        renderMode: "richText", trigger: "axis",
        formatter: function (items) {
          var i = items[0].dataIndex;
          return data.labels[i] + "\n" + data.names.rate + ": " + percent(data.mean[i]) +
            (data.low[i] === null ? "" : "\n" + data.names.interval + ": " + percent(data.low[i]) +
             " – " + percent(data.high[i])) + "\n" + data.names.posts + ": " + data.posts[i];
        }
      },
      grid: horizontal ? { left: 90, right: 24, top: 16, bottom: 32 }
                       : { left: 56, right: 24, top: 16, bottom: 40 },
      xAxis: horizontal ? valueAxis : categoryAxis,
      yAxis: horizontal ? Object.assign({}, categoryAxis, { inverse: true }) : valueAxis,
      series: [
        { name: data.names.rate, type: "boxplot", data: boxes,
          itemStyle: { color: "#dbe8f6", borderColor: "#1f5f99" },
          markLine: data.average === null ? undefined : {
            symbol: "none", silent: true, label: { formatter: data.names.average },
            lineStyle: { color: "#b5651d", type: "dashed" },
            data: [horizontal ? { xAxis: data.average } : { yAxis: data.average }]
          } },
        { name: data.names.rate, type: "scatter", data: points, itemStyle: { color: "#1f5f99" } }
      ]
    });
  }

  function heatmap(element, data) {
    var known = data.known.map(function (c) { return c.slice(0, 3); });
    var limit = Math.max(10, Math.ceil(Math.max.apply(null, known.map(function (c) {
      return Math.abs(c[2]);
    }).concat([0]))));
    var counts = {};
    data.known.concat(data.thin).forEach(function (c) {
      counts[c[0] + ":" + c[1]] = c.length === 4 ? c[3] : c[2];
    });
    var label = { show: true, fontSize: 9, formatter: function (p) {
      return counts[p.data[0] + ":" + p.data[1]];
    } };
    draw(element, {
      tooltip: {
        renderMode: "richText",
        formatter: function (p) {
          var key = p.data[0] + ":" + p.data[1];
          var head = data.days[p.data[1]] + " " + data.hours[p.data[0]] + ":00\n" +
            data.names.posts + ": " + counts[key];
          return p.seriesIndex === 0
            ? head + "\n" + data.names.effect + ": " + (p.data[2] > 0 ? "+" : "") + p.data[2]
            : head + "\n" + data.names.too_few;
        }
      },
      grid: { left: 72, right: 16, top: 8, bottom: 72 },
      xAxis: { type: "category", data: data.hours, splitArea: { show: true } },
      yAxis: { type: "category", data: data.days, inverse: true, splitArea: { show: true } },
      visualMap: {
        seriesIndex: 0, min: -limit, max: limit, calculable: true, orient: "horizontal",
        left: "center", bottom: 0, text: ["+" + limit + "%", "-" + limit + "%"],
        inRange: { color: ["#b2182b", "#f7f7f7", "#2166ac"] }
      },
      series: [
        { name: data.names.effect, type: "heatmap", data: known, label: label },
        { name: data.names.too_few, type: "heatmap", data: data.thin.map(function (c) {
            return [c[0], c[1], 0];
          }), itemStyle: { color: "#d9d9d9" }, label: label }
      ]
    });
  }

  var charts = { intervals: intervals, heatmap: heatmap };
  document.querySelectorAll("[data-analysis-chart]").forEach(function (element) {
    var data = readJson(element.dataset.source);
    var render = charts[element.dataset.analysisChart];
    if (data && render) { render(element, data); }
  });
})();
