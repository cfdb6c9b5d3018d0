/*
 * Small page behaviours wired by data- attributes, so that no template needs an inline
 * script or an on…= handler (the Content-Security-Policy allows scripts from 'self' only;
 * ADR 0034).
 *
 *   <button data-print>                      prints the page
 *   <select data-autosubmit>                 submits its form when changed
 *   <button|form data-confirm="question">    asks before submitting; "Cancel" stops it
 *   <input data-set-on-change="name=value">  sets another field of its form when changed
 */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var printer = target.closest("[data-print]");
    if (printer) {
      event.preventDefault();
      window.print();
      return;
    }
    var button = target.closest("button[data-confirm], input[type=submit][data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm !== undefined) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    }
  }, true);

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field instanceof Element && field.dataset.setOnChange && field.form) {
      var pair = field.dataset.setOnChange.split("=");
      var other = field.form.elements[pair[0]];
      if (other) other.value = pair.slice(1).join("=");
    }
    if (field instanceof HTMLSelectElement && field.dataset.autosubmit !== undefined && field.form) {
      if (typeof field.form.requestSubmit === "function") {
        field.form.requestSubmit();
      } else {
        field.form.submit();
      }
    }
  });
})();
