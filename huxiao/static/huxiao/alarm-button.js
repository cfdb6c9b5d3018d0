/* HuXiao school alarm button (plain JS; needs console.js for the shared helpers).
 *
 * Hard to trigger by accident: choose a kind (optional), then PRESS AND HOLD the red
 * button for about 2 s (pointer or touch; keyboard: hold Space or Enter on it). Letting
 * go early raises nothing; a click alone never raises.
 *
 * Never twice: one Idempotency-Key per attempt, kept for every retry of that attempt, so
 * a double tap or a retried request returns the same alarm instead of raising a second.
 *
 * After raising: the alarm's live status (console socket, plus polling GET
 * /api/v1/alarms/{id}), who acknowledged it, and a cancel countdown; after the window a
 * cancel needs a reason and is recorded as a false alarm.
 */
(function () {
  "use strict";
  if (window.HuxiaoAlarmButton) return;
  window.HuxiaoAlarmButton = true;

  var OPEN = ["raised", "acknowledged", "dispatched", "arrived"];
  var POLL_MS = 2000;

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // randomUUID exists only on https and localhost; getRandomValues works on plain
    // http intranets too.
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function AlarmButton(root, config) {
    var H = window.HuxiaoAlarms;
    this.H = H;
    this.root = root;
    this.config = config;
    this.strings = config.strings;
    this.now = H.serverClock(config.server_now);
    this.storageKey = "huxiao.alarm." + config.school_id;
    this.kind = "";
    this.busy = false;
    this.alarm = null;
    this.alarmId = null;
    this.attempt = null; // {key, body} of the raise in progress
    var q = function (sel) { return root.querySelector(sel); };
    this.choosePanel = q("[data-panel=choose]");
    this.statusPanel = q("[data-panel=status]");
    this.hold = q("[data-hold]");
    this.fill = q("[data-field=fill]");
    this.holdLabel = q("[data-field=hold-label]");
    this.error = q("[data-field=error]");
    this.cancelButton = q("[data-cancel]");
    this.cancelForm = q("[data-cancel-form]");
    this.resetButton = q("[data-reset]");
    this.bindChooser();
    this.bindHold();
    this.bindStatus();
    this.resume();
  }

  AlarmButton.prototype.field = function (name) {
    return this.root.querySelector("[data-field=" + name + "]");
  };

  AlarmButton.prototype.bindChooser = function () {
    var self = this;
    this.root.querySelectorAll("[data-kind]").forEach(function (button) {
      button.addEventListener("click", function () {
        self.kind = button.getAttribute("data-kind");
        self.root.querySelectorAll("[data-kind]").forEach(function (b) {
          b.setAttribute("aria-pressed", b === button ? "true" : "false");
        });
      });
    });
  };

  /* ---------------------------------------------------------------- press and hold */

  AlarmButton.prototype.bindHold = function () {
    var self = this, hold = this.hold;
    hold.addEventListener("pointerdown", function (event) {
      if (event.button !== undefined && event.button !== 0) return;
      event.preventDefault();
      if (hold.setPointerCapture) {
        try { hold.setPointerCapture(event.pointerId); } catch (e) { /* synthetic pointer */ }
      }
      self.startHold();
    });
    ["pointerup", "pointercancel", "lostpointercapture"].forEach(function (name) {
      hold.addEventListener(name, function () { self.stopHold(); });
    });
    hold.addEventListener("keydown", function (event) {
      if (event.key !== " " && event.key !== "Enter") return;
      event.preventDefault();
      if (!event.repeat) self.startHold();
    });
    hold.addEventListener("keyup", function (event) {
      if (event.key !== " " && event.key !== "Enter") return;
      event.preventDefault();
      self.stopHold();
    });
    hold.addEventListener("blur", function () { self.stopHold(); });
    // A long press on a phone must not open the context menu or select text.
    hold.addEventListener("contextmenu", function (event) { event.preventDefault(); });
    hold.addEventListener("click", function (event) { event.preventDefault(); });
  };

  AlarmButton.prototype.startHold = function () {
    var self = this;
    if (this.busy || this.holdStart) return;
    this.holdStart = performance.now();
    this.hold.classList.add("is-holding");
    this.holdLabel.textContent = this.strings.keep_holding;
    if (navigator.vibrate) navigator.vibrate(30);
    // The timer decides; the animation only shows progress (it pauses in hidden tabs).
    this.holdTimer = setTimeout(function () { self.holdDone(); }, this.config.hold_ms);
    var frame = function () {
      if (!self.holdStart) return;
      var progress = Math.min(1, (performance.now() - self.holdStart) / self.config.hold_ms);
      self.fill.style.transform = "scaleX(" + progress + ")";
      self.hold.setAttribute("aria-valuenow", String(Math.round(progress * 100)));
      if (progress < 1) self.holdFrame = requestAnimationFrame(frame);
    };
    this.holdFrame = requestAnimationFrame(frame);
  };

  AlarmButton.prototype.stopHold = function () {
    if (!this.holdStart) return;
    this.holdStart = null;
    clearTimeout(this.holdTimer);
    cancelAnimationFrame(this.holdFrame);
    this.fill.style.transform = "scaleX(0)";
    this.hold.classList.remove("is-holding");
    this.hold.removeAttribute("aria-valuenow");
    if (!this.busy) this.holdLabel.textContent = this.strings.hold_to_raise;
  };

  AlarmButton.prototype.holdDone = function () {
    this.fill.style.transform = "scaleX(1)";
    this.holdStart = null;
    cancelAnimationFrame(this.holdFrame);
    this.hold.classList.remove("is-holding");
    if (navigator.vibrate) navigator.vibrate([80, 40, 80]);
    this.raise();
  };

  /* ---------------------------------------------------------------- raising */

  AlarmButton.prototype.raise = function () {
    var self = this, H = this.H;
    if (this.busy) return;
    this.busy = true;
    this.hold.disabled = true;
    this.holdLabel.textContent = this.strings.raising;
    this.error.textContent = "";
    if (!this.attempt) {
      var location = this.root.querySelector("input[name=location]");
      var drill = this.root.querySelector("input[name=drill]");
      this.attempt = {
        key: newKey(),
        body: {
          school_id: this.config.school_id,
          kind: this.kind || "other",
          location: location ? location.value.trim() : "",
          drill: !!(drill && drill.checked),
        },
      };
    }
    var attempt = this.attempt;
    var tryOnce = function (n) {
      return H.api("POST", self.config.api_url, attempt.body, { "Idempotency-Key": attempt.key })
        .then(function (result) {
          if (result.ok) return self.raised(result.data);
          if (result.status >= 400 && result.status < 500) return self.raiseFailed(result, result.status === 409);
          throw new Error("server " + result.status);
        })
        .catch(function () {
          // Network or server trouble: the same key again, so a retry cannot raise twice.
          if (n >= 5) return self.raiseFailed(null, false);
          return sleep(500 * Math.pow(2, n)).then(function () { return tryOnce(n + 1); });
        });
    };
    return tryOnce(0);
  };

  AlarmButton.prototype.raiseFailed = function (result, newAttempt) {
    this.busy = false;
    this.hold.disabled = false;
    this.fill.style.transform = "scaleX(0)";
    this.holdLabel.textContent = this.strings.hold_to_raise;
    this.error.textContent = result ? this.H.errorText(result, this.strings) : this.strings.raise_failed;
    if (newAttempt || result) this.attempt = null;
  };

  AlarmButton.prototype.raised = function (alarm) {
    this.busy = false;
    try { sessionStorage.setItem(this.storageKey, String(alarm.id)); } catch (e) { /* private mode */ }
    this.showStatus(alarm);
  };

  /* A reload of the page keeps showing the alarm this browser raised, while it is open. */
  AlarmButton.prototype.resume = function () {
    var self = this, id;
    try { id = sessionStorage.getItem(this.storageKey); } catch (e) { id = null; }
    if (!id) return;
    this.H.api("GET", this.config.api_url + "/" + id).then(function (result) {
      if (result.ok && OPEN.indexOf(result.data.status) !== -1) self.showStatus(result.data);
      else self.forget();
    });
  };

  AlarmButton.prototype.forget = function () {
    try { sessionStorage.removeItem(this.storageKey); } catch (e) { /* private mode */ }
  };

  /* ---------------------------------------------------------------- status */

  AlarmButton.prototype.bindStatus = function () {
    var self = this;
    this.cancelButton.addEventListener("click", function () {
      if (!self.alarm) return;
      if (self.windowLeft() > 0) self.cancel("");
      else {
        self.cancelForm.hidden = false;
        self.cancelForm.querySelector("input").focus();
      }
    });
    this.cancelForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = self.cancelForm.querySelector("input");
      var reason = input.value.trim();
      if (!reason) { self.field("status-error").textContent = self.strings.required; input.focus(); return; }
      self.cancel(reason);
    });
    this.resetButton.addEventListener("click", function () { self.reset(); });
  };

  AlarmButton.prototype.windowLeft = function () {
    // Once the police have answered, a cancel needs a reason whatever the time (services).
    if (!this.alarm || this.alarm.status !== "raised") return 0;
    return Math.max(0, Math.ceil((Date.parse(this.alarm.cancel_window_ends_at) - this.now()) / 1000));
  };

  AlarmButton.prototype.showStatus = function (alarm) {
    var self = this;
    this.alarmId = alarm.id;
    this.choosePanel.hidden = true;
    this.statusPanel.hidden = false;
    this.hold.disabled = false;
    this.apply(alarm);
    this.field("detail-link").href = this.H.detailUrl(this.config, alarm.id);
    clearInterval(this.countdown);
    this.countdown = setInterval(function () { self.renderCancel(); }, 250);
    this.listen();
  };

  AlarmButton.prototype.apply = function (alarm) {
    // The socket carries every alarm of the school: follow only the one raised here.
    if (!alarm || alarm.id !== this.alarmId) return;
    var s = this.strings, H = this.H;
    this.alarm = alarm;
    this.field("raised").textContent = H.format(s.raised, { time: H.clockTime(alarm.raised_at) });
    this.field("status").textContent = this.config.statuses[alarm.status] || alarm.status_label;
    this.field("acked").textContent = alarm.acknowledged_by
      ? H.format(s.acknowledged_by, { name: alarm.acknowledged_by })
      : (OPEN.indexOf(alarm.status) !== -1 ? s.waiting_ack : "");
    this.field("dispatch").textContent = alarm.dispatch_note ? H.format(s.units, { units: alarm.dispatch_note }) : "";
    this.statusPanel.setAttribute("data-status", alarm.status);
    this.renderCancel();
    if (OPEN.indexOf(alarm.status) === -1) this.finished();
  };

  AlarmButton.prototype.renderCancel = function () {
    // On the scene the police close the alarm themselves; the school cannot cancel it.
    var open = this.alarm && OPEN.indexOf(this.alarm.status) !== -1 && this.alarm.status !== "arrived";
    this.cancelButton.hidden = !open;
    if (!open) { this.cancelForm.hidden = true; return; }
    var left = this.windowLeft();
    this.cancelButton.textContent = left > 0
      ? this.H.format(this.strings.cancel_countdown, { seconds: left })
      : this.strings.cancel_late;
    this.cancelButton.setAttribute("data-window", left > 0 ? "open" : "closed");
  };

  AlarmButton.prototype.cancel = function (reason) {
    var self = this;
    this.field("status-error").textContent = "";
    this.cancelButton.setAttribute("aria-busy", "true");
    this.H.api("POST", this.config.api_url + "/" + this.alarm.id + "/cancel", { reason: reason }).then(function (result) {
      self.cancelButton.removeAttribute("aria-busy");
      if (result.ok) { self.apply(result.data); return; }
      self.field("status-error").textContent = self.H.errorText(result, self.strings);
      // The window closed on the way: ask for the reason.
      if (result.data && result.data.errors && result.data.errors.reason) {
        self.cancelForm.hidden = false;
        self.cancelForm.querySelector("input").focus();
      }
    }, function () {
      self.cancelButton.removeAttribute("aria-busy");
      self.field("status-error").textContent = self.strings.failed;
    });
  };

  /* Live status: the console socket (school members are in their school's group) and,
     whatever happens to it, a poll of the alarm. */
  AlarmButton.prototype.listen = function () {
    var self = this, H = this.H;
    if (!this.socket && H.AlarmSocket) {
      this.socket = new H.AlarmSocket({
        wsUrl: this.config.ws_url,
        lastEventId: this.config.last_event_id || 0,
        onEvent: function (message) { self.apply(message.alarm); },
        onSync: function (open) { open.forEach(function (a) { self.apply(a); }); },
      });
    }
    clearInterval(this.poll);
    this.poll = setInterval(function () {
      if (!self.alarm || OPEN.indexOf(self.alarm.status) === -1) return;
      H.api("GET", self.config.api_url + "/" + self.alarm.id).then(function (result) {
        if (result.ok) self.apply(result.data);
      }, function () { /* next round */ });
    }, POLL_MS);
  };

  AlarmButton.prototype.finished = function () {
    clearInterval(this.poll);
    clearInterval(this.countdown);
    this.cancelButton.hidden = true;
    this.cancelForm.hidden = true;
    this.resetButton.hidden = false;
    this.forget();
  };

  AlarmButton.prototype.reset = function () {
    this.alarm = null;
    this.alarmId = null;
    this.attempt = null;
    this.kind = "";
    this.resetButton.hidden = true;
    this.statusPanel.hidden = true;
    this.choosePanel.hidden = false;
    this.fill.style.transform = "scaleX(0)";
    this.holdLabel.textContent = this.strings.hold_to_raise;
    this.error.textContent = "";
    this.field("status-error").textContent = "";
    this.cancelForm.querySelector("input").value = "";
    this.root.querySelectorAll("[data-kind]").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
  };

  function start() {
    document.querySelectorAll("[data-alarm-button]").forEach(function (root) {
      if (root.huxiaoAlarmButton) return;
      var node = document.getElementById(root.getAttribute("data-config-id"));
      if (node && window.HuxiaoAlarms) root.huxiaoAlarmButton = new AlarmButton(root, JSON.parse(node.textContent));
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
