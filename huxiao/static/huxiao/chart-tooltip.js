/* Chart tooltips built as elements (ADR 0034).
 *
 * ECharts' default HTML tooltip writes its markup, style attributes included, with
 * innerHTML; a style-src without 'unsafe-inline' refuses those attributes (and reports each
 * one). A formatter that returns an element is appended as it is: the text goes in with
 * textContent, the layout comes from classes (huxiao.css), and the series colour of the
 * marker is set through the CSSOM, which the policy allows.
 *
 * HuxiaoChartTooltip(valueText) → a tooltip formatter for `trigger: "axis"` or "item";
 * valueText(param) turns a value into text (default: the value as it is). No value: "—".
 */
(function () {
  "use strict";

  function part(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function missing(value) {
    return value === null || value === undefined || value === "" || value === "-";
  }

  window.HuxiaoChartTooltip = function (valueText) {
    var show = valueText || function (param) { return String(param.value); };
    return function (params) {
      var list = Array.isArray(params) ? params : [params];
      var box = part("div", "hx-chart-tip");
      if (!list.length) return box;
      box.appendChild(part("div", "hx-chart-tip-head", String(list[0].axisValueLabel || list[0].name || "")));
      list.forEach(function (param) {
        var row = part("div", "hx-chart-tip-row");
        var mark = part("span", "hx-chart-tip-mark");
        if (typeof param.color === "string") mark.style.backgroundColor = param.color;
        row.appendChild(mark);
        row.appendChild(part("span", "hx-chart-tip-name", String(param.seriesName || "")));
        row.appendChild(part("strong", "hx-chart-tip-value", missing(param.value) ? "—" : show(param)));
        box.appendChild(row);
      });
      return box;
    };
  };
})();
