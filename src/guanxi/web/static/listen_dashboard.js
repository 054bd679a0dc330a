// The listening dashboard's charts, each filled from the JSON API with the page's filters
// and drawn through GuanxiCharts (charts.js): its rules apply to every panel.
(function () {
  var config = JSON.parse(document.getElementById("dashboard-config").textContent);
  var api = config.api;
  var query = config.query;
  var labels = config.labels;
  var colors = {"positive": "#1e8449", "neutral": "#95a5a6", "negative": "#a93226"};
  function label(key) { return labels[key] || key; }
  var compact = window.GuanxiCharts.compact;
  // Names go to the legend below, the slices carry only their share: long names (and
  // Chinese ones) never run out of the card.
  var pieLabel = {formatter: "{d}%", position: "inside", color: "#fff"};
  function pie(radius, items) {
    return {tooltip: {trigger: "item", formatter: "{b}: {c} ({d}%)"}, legend: {bottom: 0, type: "scroll"},
            series: [{type: "pie", radius: radius, center: ["50%", "42%"], label: pieLabel,
                      minShowLabelAngle: 20, data: items}]};
  }
  function isEmpty(data) {
    if (!data.items) { return false; }
    return data.items.every(function (i) { return "mentions" in i && !i.mentions; });
  }
  function drill(params) {
    var search = new URLSearchParams(query);
    Object.keys(params).forEach(function (name) {
      search.delete(name);
      [].concat(params[name]).forEach(function (value) { search.append(name, value); });
    });
    window.location = "?" + search.toString() + "#drill-title";
  }
  var builders = {
    "volume": function (data) {
      return {
        tooltip: {trigger: "axis"}, legend: {top: 0, type: "scroll"}, grid: {left: 8, right: 15, top: 36, bottom: 8},
        xAxis: {type: "category", data: data.days}, yAxis: {type: "value", minInterval: 1},
        series: data.series.map(function (s) { return {name: s.name || label("all"), type: "line", data: s.data, topicId: s.topic_id}; })
      };
    },
    "sentiment": function (data) {
      return {
        tooltip: {trigger: "axis"}, legend: {top: 0, type: "scroll"}, grid: {left: 8, right: 15, top: 36, bottom: 8},
        xAxis: {type: "category", data: data.days}, yAxis: {type: "value", minInterval: 1},
        series: ["positive", "neutral", "negative"].map(function (key) { return {name: label(key), key: key, type: "line", stack: "all", areaStyle: {}, color: colors[key], data: data.series[key]}; })
      };
    },
    "share-of-voice": function (data) {
      return pie(["25%", "55%"], data.items.map(function (i) { return {name: i.name, value: i.mentions, topicId: i.topic_id}; }));
    },
    "stages": function (data) {
      return {tooltip: {trigger: "item", formatter: "{b}: {c}"},
              series: [{type: "funnel", sort: "none", left: "5%", width: "55%", label: {position: "right"}, data: data.items.filter(function (i) { return i.key !== "none"; }).map(function (i) { return {name: label(i.key), value: i.mentions, key: i.key}; })}]};
    },
    "platforms": function (data) {
      return pie("55%", data.items.map(function (i) { return {name: i.name || i.key, value: i.mentions, platform: i.key}; }));
    },
    "authors": function (data) {
      var items = data.items.slice().reverse();
      // Long names are cut to fit beside the bars; the tooltip has the whole name.
      return {tooltip: {trigger: "axis", axisPointer: {type: "shadow"}}, grid: {left: 8, right: 24, top: 10, bottom: 30},
              xAxis: {type: "value", name: label("followers"), nameLocation: "middle", nameGap: 24, axisLabel: {formatter: compact}},
              yAxis: {type: "category", axisLabel: {width: 120, overflow: "truncate"}, data: items.map(function (i) { return i.name + " · " + label(i.kind); })},
              series: [{type: "bar", name: label("followers"), data: items.map(function (i) { return i.followers; })}]};
    },
    "keywords": function (data) {
      var items = data.items.slice(0, 15).reverse();
      return {tooltip: {trigger: "axis", axisPointer: {type: "shadow"}}, grid: {left: 8, right: 20, top: 10, bottom: 25},
              xAxis: {type: "value", name: label("mentions")},
              yAxis: {type: "category", data: items.map(function (i) { return i.keyword; })},
              series: [{type: "bar", name: label("mentions"), data: items.map(function (i) { return i.mentions; })}]};
    }
  };
  var clicks = {
    "volume": function (p) { var s = p.seriesIndex, topic = charts.volume.getOption().series[s].topicId; var params = {start: p.name, end: p.name}; if (topic) { params.topic = topic; } drill(params); },
    "sentiment": function (p) { drill({start: p.name, end: p.name, sentiment: charts.sentiment.getOption().series[p.seriesIndex].key}); },
    "share-of-voice": function (p) { drill({topic: p.data.topicId}); },
    "stages": function (p) { drill({stage: p.data.key}); },
    "platforms": function (p) { drill({platform: p.data.platform}); }
  };
  var charts = {};
  if (!window.echarts) { return; }
  document.querySelectorAll("[data-panel]").forEach(function (element) {
    var panel = element.getAttribute("data-panel");
    fetch(api + panel + "?" + query, {credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (isEmpty(data)) {
          // An honest empty state rather than a chart of zeros (a pie of zeros draws equal slices).
          window.GuanxiCharts.message(element, label("empty"));
        } else if (data.needs_competitor) {
          // One topic's share of voice is always 100%: say what makes the chart useful.
          var note = window.GuanxiCharts.message(element, label("needs_competitor") + " ");
          var link = document.createElement("a");
          link.href = config.topics;
          link.textContent = label("add_competitor");
          note.appendChild(link);
        } else {
          charts[panel] = window.GuanxiCharts.draw(element, builders[panel](data));
          if (clicks[panel]) { charts[panel].on("click", clicks[panel]); }
        }
      });
  });
  // Panels whose option the page carries (data-option): the report's chart, built by the same
  // function (guanxi.web.charts.echarts_option); data-keys gives each slice's filter value.
  document.querySelectorAll("[data-drawn-panel]").forEach(function (element) {
    var option = JSON.parse(element.dataset.option);
    var keys = JSON.parse(element.dataset.keys);
    var drawn = option.series[0].data.some(function (slice) { return slice.value; });
    if (!drawn) { window.GuanxiCharts.message(element, label("empty")); return; }
    var chart = window.GuanxiCharts.draw(element, option);
    chart.on("click", function (p) { drill({kind: keys[p.dataIndex]}); });
  });
})();
