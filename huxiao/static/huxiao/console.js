/* HuXiao alarm console (plain JS, no libraries).
 *
 * - AlarmSocket: the /ws/console/ socket. Sends {"since": last_event_id} on every
 *   (re)connect, reconnects with exponential backoff and jitter, pings to detect dead
 *   connections, drops messages whose event_id it has already handled (the server may
 *   repeat events inside a catch-up), and while the socket is down catches up over
 *   HTTP (GET /api/v1/alarms/events?since=N) so alarms still arrive.
 * - The console page ([data-alarm-console]): live list of open alarms, loud (Web Audio
 *   siren, red, flashing tab title) while any is unacknowledged; acknowledge / dispatch /
 *   arrive / resolve through the REST API with the session and the CSRF header.
 * - The alarm detail page ([data-alarm-detail]): the same actions as plain forms.
 *
 * Everything user-supplied is written with textContent, never innerHTML.
 */
(function () {
  "use strict";
  if (window.HuxiaoAlarms) return;

  var OPEN = ["raised", "acknowledged", "dispatched", "arrived"];
  var RANK = { raised: 0, acknowledged: 1, dispatched: 2, arrived: 3, resolved: 4, cancelled: 4 };

  function readConfig(root) {
    var node = document.getElementById(root.getAttribute("data-config-id"));
    return node ? JSON.parse(node.textContent) : null;
  }

  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    if (headers) {
      try {
        var token = JSON.parse(headers)["X-CSRFToken"];
        if (token) return token;
      } catch (e) { /* fall back to the cookie */ }
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  /* fetch with the session cookie and CSRF header; resolves to {ok, status, data}. */
  function api(method, url, body, extraHeaders) {
    var headers = { "Accept": "application/json", "X-CSRFToken": csrfToken() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    Object.keys(extraHeaders || {}).forEach(function (k) { headers[k] = extraHeaders[k]; });
    return fetch(url, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function errorText(result, strings) {
    var data = result && result.data;
    if (!data) return strings.failed;
    var parts = [];
    if (data.errors) {
      Object.keys(data.errors).forEach(function (field) {
        parts.push(data.errors[field].join(" "));
      });
    }
    return parts.length ? parts.join(" ") : (data.detail || strings.failed);
  }

  function format(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (_, key) {
      return values[key] === null || values[key] === undefined ? "" : String(values[key]);
    });
  }

  /* el("p", {class: "x", "data-field": "y"}, "text", childNode, …) */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === false || value === null || value === undefined) return;
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    var total = Math.max(0, Math.round(seconds));
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }

  function clockTime(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  /* The server's clock as seen from here: ticking times do not depend on the PC's clock. */
  function serverClock(serverNowIso) {
    var offset = serverNowIso ? Date.parse(serverNowIso) - Date.now() : 0;
    return function () { return Date.now() + offset; };
  }

  function detailUrl(config, id) {
    return config.detail_url.replace(/\/0\/$/, "/" + id + "/");
  }

  function socketUrl(base) {
    var url = base || "/ws/";
    if (url.charAt(0) === "/") {
      url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + url;
    }
    if (url.charAt(url.length - 1) !== "/") url += "/";
    return url + "console/";
  }

  /* ---------------------------------------------------------------- AlarmSocket */

  function AlarmSocket(options) {
    this.url = socketUrl(options.wsUrl);
    this.eventsUrl = options.eventsUrl;
    this.onEvent = options.onEvent || function () {};
    this.onSync = options.onSync || function () {};
    this.onState = options.onState || function () {};
    this.onInbox = options.onInbox || function () {};
    this.lastEventId = options.lastEventId || 0;
    // While connected, ask again for everything after the last event every so often: a
    // push lost on the way (a full channel, a Redis blip) is then shown within this time
    // instead of at the next reconnect. Delivery never depends on the push alone.
    this.catchUpMs = (options.catchUpSeconds || 30) * 1000;
    this.seen = new Set();
    this.seenOrder = [];
    this.attempt = 0;
    this.stopped = false;
    this.live = false;
    this.ws = null;
    this.httpTimer = null;
    this.httpBusy = false;
    var self = this;
    window.addEventListener("online", function () { self.reconnectNow(); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") self.reconnectNow();
    });
    this.connect();
  }

  AlarmSocket.RECONNECT_BASE_MS = 500;
  AlarmSocket.RECONNECT_MAX_MS = 30000;
  AlarmSocket.PING_MS = 20000;
  AlarmSocket.SILENCE_MS = 45000;
  AlarmSocket.HTTP_CATCH_UP_MS = 3000;

  AlarmSocket.prototype.connect = function () {
    if (this.stopped) return;
    var self = this;
    clearTimeout(this.retryTimer);
    this.onState(this.attempt ? "reconnecting" : "connecting");
    var ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onmessage = function (event) { if (self.ws === ws) self.handle(event.data); };
    ws.onclose = function (event) { if (self.ws === ws) self.closed(event.code); };
    ws.onerror = function () { /* onclose follows */ };
  };

  AlarmSocket.prototype.handle = function (text) {
    var message;
    try { message = JSON.parse(text); } catch (e) { return; }
    this.lastMessageAt = Date.now();
    if (message.type === "ready") {
      this.send({ since: this.lastEventId });
      this.startHeartbeat();
      return;
    }
    if (message.type === "sync") {
      this.attempt = 0;
      this.live = true;
      this.stopHttpCatchUp();
      if (typeof message.last_event_id === "number") this.lastEventId = message.last_event_id;
      this.onState("live");
      this.onSync(message.open || [], message.open_total);
      return;
    }
    if (message.type === "pong" || message.type === "error") return;
    if (message.type === "notify.inbox") {
      // The user's own silent alerts (gate holds, contraband): the header's unread badge
      // refreshes on this body event; pages with an inbox panel show the item.
      document.body.dispatchEvent(new CustomEvent("notify-inbox", { detail: message }));
      this.onInbox(message);
      return;
    }
    if (typeof message.event_id === "number") this.deliver(message);
  };

  /* Each event once, whichever way it came (push, catch-up, HTTP). */
  AlarmSocket.prototype.deliver = function (message) {
    if (message.event_id > this.lastEventId) this.lastEventId = message.event_id;
    if (this.seen.has(message.event_id)) return;
    this.seen.add(message.event_id);
    this.seenOrder.push(message.event_id);
    if (this.seenOrder.length > 5000) this.seen.delete(this.seenOrder.shift());
    this.onEvent(message);
  };

  AlarmSocket.prototype.send = function (data) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(data));
  };

  AlarmSocket.prototype.startHeartbeat = function () {
    var self = this;
    this.stopHeartbeat();
    this.lastMessageAt = Date.now();
    this.heartbeat = setInterval(function () {
      if (Date.now() - self.lastMessageAt > AlarmSocket.SILENCE_MS) {
        // Half-open connection (a sleeping laptop, a dropped NAT entry): start again.
        if (self.ws) self.ws.close();
        self.closed(1006);
        return;
      }
      self.send({ type: "ping" });
    }, AlarmSocket.PING_MS);
    this.catchUpTimer = setInterval(function () {
      self.send({ since: self.lastEventId });
    }, this.catchUpMs);
  };

  AlarmSocket.prototype.stopHeartbeat = function () {
    clearInterval(this.heartbeat);
    clearInterval(this.catchUpTimer);
    this.heartbeat = null;
    this.catchUpTimer = null;
  };

  AlarmSocket.prototype.closed = function (code) {
    this.stopHeartbeat();
    this.ws = null;
    this.live = false;
    if (code === 4401 || code === 4403) {
      // Not a network problem: retrying cannot help.
      this.stopped = true;
      this.onState(code === 4401 ? "unauthenticated" : "forbidden");
      return;
    }
    this.onState("reconnecting");
    this.startHttpCatchUp();
    this.scheduleReconnect();
  };

  AlarmSocket.prototype.scheduleReconnect = function () {
    var self = this;
    var delay = Math.min(
      AlarmSocket.RECONNECT_MAX_MS,
      AlarmSocket.RECONNECT_BASE_MS * Math.pow(2, this.attempt)
    );
    this.attempt += 1;
    delay = delay / 2 + Math.random() * delay / 2;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(function () { self.connect(); }, delay);
  };

  AlarmSocket.prototype.reconnectNow = function () {
    if (this.stopped || this.ws) return;
    this.attempt = 0;
    this.connect();
  };

  /* While the socket is down, ask the REST API for what was missed. */
  AlarmSocket.prototype.startHttpCatchUp = function () {
    var self = this;
    if (!this.eventsUrl || this.httpTimer) return;
    var poll = function () {
      if (self.live || self.stopped || self.httpBusy) return;
      self.httpBusy = true;
      api("GET", self.eventsUrl + "?since=" + self.lastEventId).then(function (result) {
        self.httpBusy = false;
        if (result.status === 401 || result.status === 403) {
          self.stopped = true;
          self.stopHttpCatchUp();
          self.onState("unauthenticated");
          return;
        }
        if (!result.ok || !result.data || self.live) return;
        (result.data.events || []).forEach(function (m) { self.deliver(m); });
        self.onSync(result.data.open || [], result.data.open_total);
      }).catch(function () { self.httpBusy = false; });
    };
    poll();
    this.httpTimer = setInterval(poll, AlarmSocket.HTTP_CATCH_UP_MS);
  };

  AlarmSocket.prototype.stopHttpCatchUp = function () {
    clearInterval(this.httpTimer);
    this.httpTimer = null;
  };

  /* ---------------------------------------------------------------- Siren */

  function Siren() {
    var Context = window.AudioContext || window.webkitAudioContext;
    this.context = Context ? new Context() : null;
  }

  Siren.prototype.ready = function () {
    return !!this.context && this.context.state === "running";
  };

  Siren.prototype.unlock = function () {
    if (this.context && this.context.state !== "running") return this.context.resume();
    return Promise.resolve();
  };

  /* About 1.2 s of a two-tone siren; no audio files needed. */
  Siren.prototype.play = function (quiet) {
    if (!this.ready()) return;
    var ctx = this.context, start = ctx.currentTime;
    var oscillator = ctx.createOscillator(), gain = ctx.createGain();
    oscillator.type = "square";
    for (var i = 0; i < 4; i++) {
      oscillator.frequency.setValueAtTime(i % 2 ? 660 : 960, start + i * 0.3);
    }
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(quiet ? 0.05 : 0.25, start + 0.03);
    gain.gain.setValueAtTime(quiet ? 0.05 : 0.25, start + 1.15);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 1.2);
    oscillator.connect(gain).connect(ctx.destination);
    oscillator.start(start);
    oscillator.stop(start + 1.25);
  };

  /* ---------------------------------------------------------------- Console page */

  function AlarmConsole(root, config) {
    this.root = root;
    this.config = config;
    this.strings = config.strings;
    this.now = serverClock(config.server_now);
    this.canRespond = new Set(config.respond_school_ids || []);
    this.open = new Map(); // id -> {alarm, eventId, card}
    this.closed = new Map(); // id -> alarm
    this.listNode = root.querySelector("[data-field=open]");
    this.emptyNode = root.querySelector("[data-field=empty]");
    this.countNode = root.querySelector("[data-field=open-count]");
    this.moreNode = root.querySelector("[data-field=open-more]");
    // Open alarms the server left out of its list when it last sent it: it sends at most
    // a limit of them, the most urgent (ADR 0011).
    this.openBeyond = Math.max(0, (config.open_total || 0) - (config.open || []).length);
    this.closedNode = root.querySelector("[data-field=closed]");
    this.connNode = root.querySelector("[data-field=connection]");
    this.soundButton = root.querySelector("[data-sound]");
    this.inboxNode = root.querySelector("[data-field=inbox]");
    this.inboxSeen = new Set();
    this.baseTitle = document.title;
    this.tickCount = 0;
    this.siren = new Siren();
    var self = this;

    (config.closed || []).forEach(function (alarm) { self.closed.set(alarm.id, alarm); });
    (config.open || []).forEach(function (alarm) { self.apply(alarm, null, true); });
    (config.inbox || []).slice().reverse().forEach(function (item) { self.addInbox(item, false); });
    this.renderClosed();
    this.renderCount();
    this.setupSound();
    setInterval(function () { self.tick(); }, 1000);
    this.tick();
    this.socket = new AlarmSocket({
      wsUrl: config.ws_url,
      eventsUrl: config.events_url,
      lastEventId: config.last_event_id,
      catchUpSeconds: config.catch_up_seconds,
      onEvent: function (m) { self.apply(m.alarm, m.event_id, false); },
      onSync: function (open, total) { self.sync(open, total); },
      onState: function (state) { self.showState(state); },
      onInbox: function (item) { self.addInbox(item, true); },
    });
  }

  /* A silent alert for this user (newest first): shown, never sounded — a screening hold
     must not be heard at the gate, and the officer's console may be in the same room. */
  AlarmConsole.prototype.addInbox = function (item, fresh) {
    if (!this.inboxNode || this.inboxSeen.has(item.notification_id)) return;
    this.inboxSeen.add(item.notification_id);
    var row = el("li", { "data-testid": "inbox-alert", class: fresh ? "hx-inbox-new" : "" });
    var link = el("a", { href: item.url, text: item.title });
    row.appendChild(link);
    if (item.at) row.appendChild(el("span", { class: "hx-muted", text: " " + clockTime(item.at) }));
    this.inboxNode.insertBefore(row, this.inboxNode.firstChild);
    while (this.inboxNode.children.length > 20) this.inboxNode.removeChild(this.inboxNode.lastChild);
    var empty = this.root.querySelector("[data-field=inbox-empty]");
    if (empty) empty.hidden = true;
  };

  AlarmConsole.prototype.setupSound = function () {
    var self = this;
    var refresh = function () {
      if (self.soundButton) self.soundButton.hidden = self.siren.ready() || !self.siren.context;
    };
    var unlock = function () { self.siren.unlock().then(refresh, refresh); };
    // Browsers start audio only after a gesture on the page.
    document.addEventListener("pointerdown", unlock, true);
    document.addEventListener("keydown", unlock, true);
    if (this.soundButton) this.soundButton.addEventListener("click", function () {
      self.siren.unlock().then(function () { refresh(); self.siren.play(true); }, refresh);
    });
    if (this.siren.context) this.siren.context.onstatechange = refresh;
    refresh();
  };

  AlarmConsole.prototype.showState = function (state) {
    var text = {
      live: this.strings.connected,
      connecting: this.strings.connecting,
      reconnecting: this.strings.reconnecting,
      unauthenticated: this.strings.unauthenticated,
      forbidden: this.strings.forbidden,
    }[state] || state;
    this.connNode.textContent = text;
    this.connNode.setAttribute("data-state", state);
  };

  /* One alarm's new state. eventId null: a snapshot (page load, sync, REST answer). */
  AlarmConsole.prototype.apply = function (alarm, eventId, quiet) {
    if (!alarm) return;
    var entry = this.open.get(alarm.id);
    if (entry && eventId !== null && entry.eventId !== null && eventId < entry.eventId) return;
    if (entry && eventId === null && RANK[alarm.status] < RANK[entry.alarm.status]) return;
    var isOpen = OPEN.indexOf(alarm.status) !== -1;
    if (!isOpen) {
      if (entry) {
        entry.card.remove();
        this.open.delete(alarm.id);
      }
      var known = this.closed.get(alarm.id);
      if (!known || RANK[alarm.status] >= RANK[known.status]) this.closed.set(alarm.id, alarm);
      this.renderClosed();
      this.renderCount();
      return;
    }
    if (this.closed.has(alarm.id)) return; // a late message about an alarm already closed
    if (!entry) {
      entry = { alarm: alarm, eventId: eventId, card: this.buildCard(alarm) };
      this.open.set(alarm.id, entry);
      this.insertCard(entry);
      if (!quiet && alarm.status === "raised") this.siren.play(alarm.is_drill);
    }
    entry.alarm = alarm;
    if (eventId !== null) entry.eventId = eventId;
    this.updateCard(entry);
    this.renderCount();
  };

  AlarmConsole.prototype.sync = function (openAlarms, total) {
    var self = this, ids = new Set();
    openAlarms.forEach(function (alarm) { ids.add(alarm.id); self.apply(alarm, null, false); });
    // The rest of the server's count: those open there that this page does not hold (what
    // it holds beyond the list is checked below, and leaves the count if closed).
    if (typeof total === "number") {
      this.openBeyond = Math.max(0, total - this.open.size);
      this.renderCount();
    }
    // Held here but not in the server's list: closed meanwhile, no longer in scope, or open
    // but past the list's limit.
    Array.from(this.open.keys()).forEach(function (id) {
      if (ids.has(id)) return;
      api("GET", self.config.api_url + "/" + id).then(function (result) {
        if (result.ok) self.apply(result.data, null, true);
        else if (result.status === 404) {
          var entry = self.open.get(id);
          if (entry) { entry.card.remove(); self.open.delete(id); self.renderCount(); }
        }
      });
    });
  };

  AlarmConsole.prototype.insertCard = function (entry) {
    // Newest first.
    var cards = this.listNode.children;
    for (var i = 0; i < cards.length; i++) {
      var other = this.open.get(Number(cards[i].getAttribute("data-alarm-id")));
      if (other && other.alarm.raised_at < entry.alarm.raised_at) {
        this.listNode.insertBefore(entry.card, cards[i]);
        return;
      }
    }
    this.listNode.appendChild(entry.card);
  };

  AlarmConsole.prototype.buildCard = function (alarm) {
    var s = this.strings, self = this;
    var card = el("article", { "class": "hx-alarm", "data-testid": "alarm-card", "data-alarm-id": alarm.id },
      el("header", {},
        el("span", { "class": "hx-alarm-school", "data-field": "school", "data-testid": "alarm-school" }),
        el("span", { "class": "hx-badge", "data-field": "kind", "data-testid": "alarm-kind" }),
        el("span", { "class": "hx-badge hx-badge--drill", "data-field": "drill", "data-testid": "alarm-drill", text: s.drill }),
        el("span", { "class": "hx-badge hx-badge--escalated", "data-field": "escalation" })
      ),
      el("p", { "data-field": "where" }),
      el("p", {},
        el("time", { "data-field": "raised-at" }), " · ",
        el("span", { "data-field": "ago", "data-testid": "alarm-ago" }), " · ",
        el("span", { "data-field": "raised-by" })
      ),
      el("p", { "class": "hx-alarm-state", "data-field": "status", "data-testid": "alarm-status" }),
      el("p", { "data-field": "acked", "data-testid": "alarm-acked-by" }),
      el("p", { "data-field": "dispatch" }),
      el("p", { "data-field": "arrived" })
    );
    var actions = el("div", { "class": "hx-alarm-actions" });
    if (this.canRespond.has(alarm.school_id)) {
      actions.appendChild(el("button", { type: "button", "data-action": "acknowledge", "data-testid": "alarm-ack", text: s.acknowledge }));
      actions.appendChild(el("form", { "data-action": "dispatch" },
        el("input", { name: "units", maxlength: "300", required: true, placeholder: s.units_placeholder, "aria-label": s.units_placeholder, "data-testid": "alarm-units" }),
        el("button", { type: "submit", "class": "secondary", "data-testid": "alarm-dispatch", text: s.dispatch })
      ));
      actions.appendChild(el("button", { type: "button", "class": "secondary", "data-action": "arrive", "data-testid": "alarm-arrive", text: s.arrive }));
      actions.appendChild(el("form", { "data-action": "resolve" },
        el("input", { name: "outcome", maxlength: "4000", required: true, placeholder: s.outcome_placeholder, "aria-label": s.outcome_placeholder, "data-testid": "alarm-outcome" }),
        el("button", { type: "submit", "class": "secondary", "data-testid": "alarm-resolve", text: s.resolve })
      ));
    }
    actions.appendChild(el("a", { href: detailUrl(this.config, alarm.id), "data-testid": "alarm-detail-link", text: s.timeline }));
    actions.appendChild(el("p", { "class": "hx-alarm-feedback", "data-field": "feedback", "data-testid": "alarm-feedback", role: "alert" }));
    card.appendChild(actions);
    card.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-action]");
      if (button) self.act(alarm.id, button.getAttribute("data-action"), {}, button);
    });
    card.addEventListener("submit", function (event) {
      event.preventDefault();
      var form = event.target, action = form.getAttribute("data-action");
      var field = action === "dispatch" ? "units" : "outcome";
      var input = form.elements[field];
      var value = input.value.trim();
      if (!value) { self.feedback(alarm.id, s.required); input.focus(); return; }
      var body = {};
      body[field] = value;
      self.act(alarm.id, action, body, form.querySelector("button")).then(function (ok) {
        if (ok) input.value = "";
      });
    });
    return card;
  };

  AlarmConsole.prototype.feedback = function (id, text) {
    var entry = this.open.get(id);
    if (entry) entry.card.querySelector("[data-field=feedback]").textContent = text || "";
  };

  AlarmConsole.prototype.act = function (id, action, body, button) {
    var self = this;
    if (button) button.setAttribute("aria-busy", "true");
    this.feedback(id, "");
    return api("POST", this.config.api_url + "/" + id + "/" + action, body).then(function (result) {
      if (button) button.removeAttribute("aria-busy");
      if (result.ok) {
        self.apply(result.data, null, true);
        return true;
      }
      // 409: someone else acknowledged first; the message names them.
      self.feedback(id, errorText(result, self.strings));
      api("GET", self.config.api_url + "/" + id).then(function (r) {
        if (r.ok) self.apply(r.data, null, true);
      });
      return false;
    }, function () {
      if (button) button.removeAttribute("aria-busy");
      self.feedback(id, self.strings.failed);
      return false;
    });
  };

  AlarmConsole.prototype.updateCard = function (entry) {
    var a = entry.alarm, s = this.strings, card = entry.card;
    var field = function (name) { return card.querySelector("[data-field=" + name + "]"); };
    card.setAttribute("data-status", a.status);
    field("school").textContent = a.school_name;
    field("kind").textContent = this.config.kinds[a.kind] || a.kind_label || a.kind;
    field("drill").hidden = !a.is_drill;
    field("escalation").hidden = !a.escalation_level;
    field("escalation").textContent = format(s.escalated, { level: a.escalation_level });
    field("where").textContent = [a.location, a.note].filter(Boolean).join(" · ");
    field("where").hidden = !a.location && !a.note;
    field("raised-at").textContent = clockTime(a.raised_at);
    field("raised-at").setAttribute("datetime", a.raised_at);
    field("raised-by").textContent = a.raised_by ? format(s.raised_by, { name: a.raised_by }) : "";
    field("status").textContent = this.config.statuses[a.status] || a.status_label;
    field("acked").textContent = a.acknowledged_by
      ? format(s.acknowledged_after, { name: a.acknowledged_by, duration: duration(a.ack_seconds) })
      : s.not_acknowledged;
    field("dispatch").textContent = a.dispatch_note ? format(s.units, { units: a.dispatch_note }) : "";
    field("dispatch").hidden = !a.dispatch_note;
    field("arrived").textContent = a.arrived_at ? format(s.arrived_after, { duration: duration(a.arrival_seconds) }) : "";
    field("arrived").hidden = !a.arrived_at;
    var ack = card.querySelector("[data-action=acknowledge]");
    if (ack) ack.hidden = !!a.acknowledged_at;
    var arrive = card.querySelector("[data-action=arrive]");
    if (arrive) arrive.hidden = !!a.arrived_at;
    this.tickCard(entry);
  };

  AlarmConsole.prototype.tickCard = function (entry) {
    var seconds = (this.now() - Date.parse(entry.alarm.raised_at)) / 1000;
    entry.card.querySelector("[data-field=ago]").textContent = format(this.strings.raised_ago, { ago: duration(seconds) });
  };

  AlarmConsole.prototype.unacknowledged = function () {
    var list = [];
    this.open.forEach(function (entry) { if (entry.alarm.status === "raised") list.push(entry.alarm); });
    return list;
  };

  /* Every second: the ticking times, the flashing title, the siren every 4 s. */
  AlarmConsole.prototype.tick = function () {
    var self = this;
    this.tickCount += 1;
    this.open.forEach(function (entry) { self.tickCard(entry); });
    var waiting = this.unacknowledged();
    document.body.classList.toggle("hx-alarm-active", waiting.length > 0);
    if (!waiting.length) {
      document.title = this.baseTitle;
      return;
    }
    var first = waiting[0];
    document.title = this.tickCount % 2
      ? this.strings.alarm_title + " " + first.school_name + " " + (this.config.kinds[first.kind] || first.kind)
      : this.strings.alarm_title + " " + this.baseTitle;
    if (this.tickCount % 4 === 0) {
      this.siren.play(waiting.every(function (a) { return a.is_drill; }));
    }
  };

  AlarmConsole.prototype.renderCount = function () {
    var total = this.open.size + this.openBeyond;
    this.countNode.textContent = String(total);
    this.emptyNode.hidden = total > 0;
    this.moreNode.hidden = this.openBeyond === 0;
    this.moreNode.textContent = format(this.strings.open_more, {
      shown: this.open.size, total: total
    });
  };

  AlarmConsole.prototype.renderClosed = function () {
    var self = this, s = this.strings;
    var closedAt = function (a) { return a.resolved_at || a.cancelled_at || a.raised_at; };
    var alarms = Array.from(this.closed.values()).sort(function (x, y) {
      return closedAt(x) < closedAt(y) ? 1 : -1;
    }).slice(0, 20);
    this.closedNode.textContent = "";
    if (!alarms.length) {
      this.closedNode.appendChild(el("tr", {}, el("td", { colspan: "8", text: s.no_closed_alarms })));
      return;
    }
    alarms.forEach(function (a) {
      self.closedNode.appendChild(el("tr", { "data-alarm-id": a.id, "data-testid": "closed-alarm" },
        el("td", { text: a.school_name }),
        el("td", {}, self.config.kinds[a.kind] || a.kind, a.is_drill ? el("span", { "class": "hx-badge hx-badge--drill", text: " " + s.drill }) : null),
        el("td", { text: clockTime(a.raised_at) }),
        el("td", { text: self.config.statuses[a.status] || a.status_label }),
        el("td", { text: duration(a.ack_seconds) }),
        el("td", { text: duration(a.arrival_seconds) }),
        el("td", { text: a.outcome || a.cancel_reason || "" }),
        el("td", {}, el("a", { href: detailUrl(self.config, a.id), text: s.timeline }))
      ));
    });
  };

  /* ---------------------------------------------------------------- Detail page */

  function bindDetail(root, config) {
    var id = root.getAttribute("data-alarm-id");
    var feedback = root.querySelector("[data-field=feedback]");
    var run = function (action, body, button) {
      button.setAttribute("aria-busy", "true");
      feedback.textContent = "";
      api("POST", config.api_url + "/" + id + "/" + action, body).then(function (result) {
        button.removeAttribute("aria-busy");
        if (result.ok) { location.reload(); return; }
        feedback.textContent = errorText(result, config.strings);
      }, function () {
        button.removeAttribute("aria-busy");
        feedback.textContent = config.strings.failed;
      });
    };
    root.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-action]");
      if (button) run(button.getAttribute("data-action"), {}, button);
    });
    root.addEventListener("submit", function (event) {
      event.preventDefault();
      var form = event.target, body = {};
      var input = form.querySelector("input");
      body[input.name] = input.value.trim();
      run(form.getAttribute("data-action"), body, form.querySelector("button"));
    });
  }

  window.HuxiaoAlarms = {
    api: api,
    format: format,
    duration: duration,
    clockTime: clockTime,
    serverClock: serverClock,
    errorText: errorText,
    detailUrl: detailUrl,
    AlarmSocket: AlarmSocket,
    Siren: Siren,
  };

  function start() {
    document.querySelectorAll("[data-alarm-console]").forEach(function (root) {
      var config = readConfig(root);
      if (config) root.huxiaoConsole = new AlarmConsole(root, config);
    });
    document.querySelectorAll("[data-alarm-detail]").forEach(function (root) {
      var config = readConfig(root);
      if (config) bindDetail(root, config);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
