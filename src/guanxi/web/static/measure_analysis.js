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

  // Every chart follows the shared rules (charts.js).
  function draw(element, options) { window.GuanxiCharts.draw(element, options); }

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
    var horizontal = data.labels.length > 8 || element.clientWidth < 600;
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
            symbol: "none", silent: true,
            label: { formatter: data.names.average, position: "insideEndTop" },
            lineStyle: { color: "#b5651d", type: "dashed" },
            data: [horizontal ? { xAxis: data.average } : { yAxis: data.average }]
          } },
        { name: data.names.rate, type: "scatter", data: points, itemStyle: { color: "#1f5f99" } }
      ]
    });
  }

  // Hours across and days down on a laptop; on a phone, days across and hours down, so
  // that each cell stays big enough to read and to tap.
  function heatmap(element, data) {
    var narrow = element.clientWidth < 600;
    if (narrow) { element.style.height = "720px"; }
    function cell(hour, day, value) { return narrow ? [day, hour, value] : [hour, day, value]; }
    function hourAndDay(point) { return narrow ? [point[1], point[0]] : [point[0], point[1]]; }
    var known = data.known.map(function (c) { return cell(c[0], c[1], c[2]); });
    var limit = Math.max(10, Math.ceil(Math.max.apply(null, data.known.map(function (c) {
      return Math.abs(c[2]);
    }).concat([0]))));
    var counts = {};
    data.known.concat(data.thin).forEach(function (c) {
      counts[c[0] + ":" + c[1]] = c.length === 4 ? c[3] : c[2];
    });
    function count(point) { var at = hourAndDay(point); return counts[at[0] + ":" + at[1]]; }
    var label = { show: true, fontSize: 9, formatter: function (p) { return count(p.data); } };
    var hours = { type: "category", data: data.hours, inverse: narrow };
    var days = { type: "category", data: data.days, inverse: !narrow,
                 axisLabel: narrow ? { interval: 0, rotate: 45 } : {} };
    element.dataset.orientation = narrow ? "days-across" : "hours-across";
    draw(element, {
      tooltip: {
        renderMode: "richText",
        formatter: function (p) {
          var at = hourAndDay(p.data);
          var head = data.days[at[1]] + " " + data.hours[at[0]] + ":00\n" +
            data.names.posts + ": " + count(p.data);
          return p.seriesIndex === 0
            ? head + "\n" + data.names.effect + ": " + (p.data[2] > 0 ? "+" : "") + p.data[2]
            : head + "\n" + data.names.too_few;
        }
      },
      grid: narrow ? { left: 36, right: 8, top: 8, bottom: 110 }
                   : { left: 72, right: 16, top: 8, bottom: 64 },
      xAxis: narrow ? days : hours,
      yAxis: narrow ? hours : days,
      visualMap: {
        seriesIndex: 0, min: -limit, max: limit, calculable: false, orient: "horizontal",
        left: "center", bottom: 0, text: ["+" + limit + "%", "-" + limit + "%"],
        inRange: { color: ["#b2182b", "#f7f7f7", "#2166ac"] }
      },
      series: [
        { name: data.names.effect, type: "heatmap", data: known, label: label },
        { name: data.names.too_few, type: "heatmap", data: data.thin.map(function (c) {
            return cell(c[0], c[1], 0);
          }), itemStyle: { color: "#d9d9d9" }, label: label }
      ]
    });
  }

  // Each account's share of engagement, the brand's own accounts in the darker colour.
  function shares(element, data) {
    draw(element, {
      tooltip: { renderMode: "richText", trigger: "axis",
                 formatter: function (items) {
                   var i = items[0].dataIndex;
                   return data.labels[i] + "\n" + (data.own[i] ? data.names.own : data.names.competitor) +
                     "\n" + data.names.value + ": " + percent(data.values[i]);
                 } },
      grid: { left: 140, right: 24, top: 8, bottom: 32 },
      xAxis: { type: "value", min: 0,
               axisLabel: { formatter: function (v) { return (v * 100).toFixed(0) + "%"; } } },
      yAxis: { type: "category", data: data.labels, inverse: true,
               axisLabel: { width: 130, overflow: "truncate" } },
      series: [{ name: data.names.value, type: "bar", data: data.values.map(function (v, i) {
        return { value: v, itemStyle: { color: data.own[i] ? "#1f5f99" : "#b5b5b5" } };
      }) }]
    });
  }

  var charts = { intervals: intervals, heatmap: heatmap, shares: shares };
  document.querySelectorAll("[data-analysis-chart]").forEach(function (element) {
    var data = readJson(element.dataset.source);
    var render = charts[element.dataset.analysisChart];
    if (data && render) { render(element, data); }
  });
})();
