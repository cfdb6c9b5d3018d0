/* Optional: the phone's position, if the person allows it. The check-in never waits for it.
 * The messages come from data- attributes of the status line (translated by the server). */
(function () {
  "use strict";
  var status = document.querySelector('[data-testid="geo-status"]');
  var form = document.querySelector('[data-testid="checkin-form"]');
  if (!navigator.geolocation || !form || !status) return;
  navigator.geolocation.getCurrentPosition(function (pos) {
    form.elements.latitude.value = pos.coords.latitude.toFixed(6);
    form.elements.longitude.value = pos.coords.longitude.toFixed(6);
    form.elements.accuracy_m.value = Math.round(pos.coords.accuracy);
    status.textContent = status.dataset.taken + " " + Math.round(pos.coords.accuracy) + " m";
  }, function () {
    status.textContent = status.dataset.unavailable;
  }, {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
})();
