/* The scorecard's trend chart, from the JSON the page carries (json_script). */
(function () {
  "use strict";
  var holder = document.getElementById("scorecard-chart");
  var source = document.getElementById("scorecard-chart-data");
  if (!holder || !source || !window.echarts || !window.HuxiaoChartTooltip) { return; }
  var data = JSON.parse(source.textContent);
  var series = data.series.map(function (s) {
    return { name: s.name, type: "line", data: s.data, connectNulls: false, symbolSize: 6 };
  });
  series.push({ name: data.total.name, type: "line", data: data.total.data, lineStyle: { width: 4 }, symbolSize: 10, z: 5 });
  var chart = window.echarts.init(holder);
  chart.setOption({
    // Elements, not ECharts' default markup: that carries style attributes (chart-tooltip.js).
    tooltip: {
      trigger: "axis",
      formatter: window.HuxiaoChartTooltip(function (p) {
        return p.seriesName === data.total.name ? String(p.value) : p.value + "%";
      })
    },
    legend: { type: "scroll", top: 0 },
    grid: { top: 48, left: 40, right: 16, bottom: 32 },
    xAxis: { type: "category", data: data.months },
    yAxis: { type: "value", min: 0, max: 100 },
    series: series
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
