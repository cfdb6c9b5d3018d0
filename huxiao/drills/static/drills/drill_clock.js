/* The running clock of a drill between the signal and "everyone is out". */
(function () {
  "use strict";
  var clock = document.querySelector('[data-testid="drill-elapsed"]');
  if (!clock) return;
  var signal = Date.parse(clock.dataset.signal);
  // The server's clock decides: correct for a phone whose clock is off.
  var offset = Date.parse(clock.dataset.now) - Date.now();
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var seconds = Math.max(0, Math.floor((Date.now() + offset - signal) / 1000));
    clock.textContent = pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60);
  }
  tick();
  setInterval(tick, 500);
})();
