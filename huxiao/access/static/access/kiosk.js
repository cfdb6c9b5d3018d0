/* A scanner types into whatever has the focus: keep it on the scan box after a tap elsewhere. */
(function () {
  "use strict";
  var box = document.querySelector('[data-testid="scan-box"]');
  if (!box) return;
  document.addEventListener("click", function (event) {
    if (!event.target.closest("a, button, input, select, textarea, form")) box.focus();
  });
  // Lists refresh every minute, never in the middle of a scan or a typed PIN.
  setInterval(function () { if (!box.value) window.location.reload(); }, 60000);
})();
