/* HuXiao command dashboard (ADR 0033): charts, live alarms and health alerts, refresh.
 *
 * - Charts: every [data-chart] element draws the JSON of the <script> named by its
 *   data-chart-source (written by json_script) with the vendored ECharts.
 * - Alarms: the console socket (/ws/console/, console.js's AlarmSocket: catch-up from the
 *   last event id, reconnect with backoff, HTTP catch-up while down). An alarm event of one
 *   of the area's schools refreshes the alarms panel and a raised alarm is flashed.
 * - Health alerts: the events socket (/ws/events/), reconnecting with backoff; a new
 *   cluster alert of the area refreshes the health panel. Counts only: never a child.
 * - Refresh: the panels are HTML fragments of the same page (GET fragment_url&panel=…),
 *   swapped in without a reload; every refresh_seconds all of them (the big screen: every
 *   minute), so nothing depends on a push arriving.
 *
 * Everything from a push is written with textContent, never innerHTML; the fragments are
 * the server's own escaped HTML.
 */
(function () {
  "use strict";
  if (window.HuxiaoDashboard) return;

  var RECONNECT_BASE_MS = 500;
  var RECONNECT_MAX_MS = 30000;
  var PING_MS = 20000;
  var DEBOUNCE_MS = 250;
  var BANNER_MS = 120000;

  function readConfig(root) {
    var node = document.getElementById(root.getAttribute("data-config-id"));
    return node ? JSON.parse(node.textContent) : null;
  }

  function format(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (_, key) {
      return values[key] === null || values[key] === undefined ? "" : String(values[key]);
    });
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function clock(date) {
    return pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds());
  }

  function socketBase(base) {
    var url = base || "/ws/";
    if (url.charAt(0) === "/") {
      url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + url;
    }
    if (url.charAt(url.length - 1) !== "/") url += "/";
    return url;
  }

  /* ---------------------------------------------------------------- charts */

  function chartOption(data, dark) {
    var horizontal = !!data.horizontal;
    var several = data.series.length > 1;
    var text = dark ? "#e8eef9" : "#333";
    var valueAxis = { type: "value", minInterval: data.percent ? 0 : 1, axisLabel: { color: text } };
    if (data.percent) { valueAxis.max = 100; valueAxis.axisLabel.formatter = "{value}%"; }
    var categoryAxis = {
      type: "category",
      data: data.x,
      axisLabel: { color: text, interval: horizontal ? 0 : "auto", hideOverlap: true },
    };
    return {
      backgroundColor: "transparent",
      animation: false,
      // Elements, not ECharts' default markup: that carries style attributes (chart-tooltip.js).
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: window.HuxiaoChartTooltip(data.percent ? function (p) { return p.value + "%"; } : null),
      },
      legend: several ? { top: 0, textStyle: { color: text } } : { show: false },
      grid: { left: 8, right: 24, top: several ? 30 : 10, bottom: 8, containLabel: true },
      xAxis: horizontal ? valueAxis : categoryAxis,
      yAxis: horizontal ? categoryAxis : valueAxis,
      series: data.series.map(function (s) {
        return {
          name: s.name,
          type: "bar",
          data: s.data,
          stack: data.stack ? "total" : undefined,
          label: { show: !!data.percent, position: horizontal ? "right" : "top", color: text,
                   formatter: function (p) { return p.value === null ? "" : p.value + "%"; } },
        };
      }),
    };
  }

  function drawCharts(scope, dark) {
    if (!window.echarts || !window.HuxiaoChartTooltip) return;
    scope.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-chart-source"));
      if (!source) return;
      var data;
      try { data = JSON.parse(source.textContent); } catch (e) { return; }
      if (!data || !data.series) return;
      var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el, dark ? "dark" : null);
      chart.setOption(chartOption(data, dark), true);
    });
  }

  function disposeCharts(scope) {
    if (!window.echarts) return;
    scope.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = window.echarts.getInstanceByDom(el);
      if (chart) chart.dispose();
    });
  }

  /* ---------------------------------------------------------------- events socket */

  /* /ws/events/: platform events of the user's groups ({event, payload}). */
  function EventSocket(options) {
    this.url = socketBase(options.wsUrl) + "events/";
    this.onEvent = options.onEvent;
    this.onState = options.onState;
    this.onReconnect = options.onReconnect || function () {};
    this.attempt = 0;
    this.stopped = false;
    this.connected = false;
    this.ws = null;
    var self = this;
    window.addEventListener("online", function () { self.reconnectNow(); });
    this.connect();
  }

  EventSocket.prototype.connect = function () {
    if (this.stopped) return;
    var self = this;
    this.onState(this.attempt ? "reconnecting" : "connecting");
    var ws;
    try { ws = new WebSocket(this.url); } catch (e) { this.retry(); return; }
    this.ws = ws;
    ws.onmessage = function (event) {
      if (self.ws !== ws) return;
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.event === "hello") {
        var again = self.connected;
        self.attempt = 0;
        self.connected = true;
        self.onState("live");
        self.heartbeat();
        // What was raised while the socket was down comes from the database.
        if (again) self.onReconnect();
        return;
      }
      if (message.event === "pong") return;
      self.onEvent(message);
    };
    ws.onclose = function (event) {
      if (self.ws !== ws) return;
      self.ws = null;
      clearInterval(self.pinger);
      if (event.code === 4401 || event.code === 4403) {
        self.stopped = true;
        self.onState("offline");
        return;
      }
      self.onState("reconnecting");
      self.retry();
    };
    ws.onerror = function () { /* onclose follows */ };
  };

  EventSocket.prototype.heartbeat = function () {
    var self = this;
    clearInterval(this.pinger);
    this.pinger = setInterval(function () {
      if (self.ws && self.ws.readyState === WebSocket.OPEN) self.ws.send('{"type":"ping"}');
    }, PING_MS);
  };

  EventSocket.prototype.retry = function () {
    var self = this;
    var delay = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * Math.pow(2, this.attempt));
    this.attempt += 1;
    delay = delay / 2 + Math.random() * delay / 2;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(function () { self.connect(); }, delay);
  };

  EventSocket.prototype.reconnectNow = function () {
    if (this.stopped || this.ws) return;
    this.attempt = 0;
    clearTimeout(this.retryTimer);
    this.connect();
  };

  /* ---------------------------------------------------------------- the dashboard */

  function Dashboard(root, config) {
    this.root = root;
    this.config = config;
    this.strings = config.strings || {};
    this.dark = !!config.screen;
    this.schools = new Set(config.school_ids || []);
    this.wanted = {};
    this.flash = {};
    this.busy = false;
    this.states = {};
    this.field = function (name) { return root.querySelector("[data-field=" + name + "]"); };
    drawCharts(root, this.dark);
    this.bindLive();
    this.startTimers();
    window.addEventListener("resize", function () {
      if (!window.echarts) return;
      root.querySelectorAll("[data-chart]").forEach(function (el) {
        var chart = window.echarts.getInstanceByDom(el);
        if (chart) chart.resize();
      });
    });
  }

  Dashboard.prototype.inArea = function (schoolId) {
    return !this.schools.size || this.schools.has(schoolId);
  };

  Dashboard.prototype.setState = function (socket, state) {
    this.states[socket] = state;
    var values = Object.keys(this.states).map(function (k) { return this.states[k]; }, this);
    var shown = "offline";
    if (values.indexOf("reconnecting") >= 0) shown = "reconnecting";
    else if (values.indexOf("connecting") >= 0) shown = "connecting";
    else if (values.indexOf("live") >= 0) shown = "live";
    var node = this.field("connection");
    if (!node) return;
    node.setAttribute("data-state", shown);
    node.textContent = this.strings[shown] || shown;
  };

  Dashboard.prototype.bindLive = function () {
    var self = this, config = this.config;
    var Alarms = window.HuxiaoAlarms;
    if (config.alarms_live && Alarms && window.WebSocket) {
      var synced = false;
      this.states.alarms = "connecting";
      this.alarmSocket = new Alarms.AlarmSocket({
        wsUrl: config.ws_url,
        eventsUrl: config.events_url,
        lastEventId: config.last_event_id,
        onState: function (state) {
          self.setState("alarms", state === "unauthenticated" || state === "forbidden" ? "offline" : state);
        },
        onSync: function () {
          // After a reconnection: whatever changed while away.
          if (synced) self.refresh(null);
          synced = true;
        },
        onEvent: function (message) { self.alarmEvent(message); },
      });
    }
    if (config.health_live && window.WebSocket) {
      this.states.health = "connecting";
      this.healthSocket = new EventSocket({
        wsUrl: config.ws_url,
        onState: function (state) { self.setState("health", state); },
        onReconnect: function () { self.refresh(["health"]); },
        onEvent: function (message) { self.healthEvent(message); },
      });
    }
  };

  Dashboard.prototype.alarmEvent = function (message) {
    var alarm = message.alarm || {};
    if (!this.inArea(alarm.school_id)) return;
    // Everything: the breakdown's open alarms change too. Alarms are few; figures cheap.
    this.refresh(null, message.type === "alarm.raised" ? ["alarms"] : []);
    // A replayed "raised" (a device's retry) of an alarm answered since is no news.
    if (message.type !== "alarm.raised" || (alarm.status && alarm.status !== "raised")) return;
    var template = alarm.is_drill ? this.strings.new_drill : this.strings.new_alarm;
    this.banner(format(template, {
      school: alarm.school_name,
      kind: alarm.kind_label,
      time: alarm.raised_at ? clock(new Date(alarm.raised_at)) : "",
    }), "alarm", alarm.id);
  };

  Dashboard.prototype.healthEvent = function (message) {
    if (message.event !== "health.alert.raised") return;
    var payload = message.payload || {};
    if (!this.inArea(payload.school_id)) return;
    this.refresh(["health"], ["health"]);
    this.banner(format(this.strings.new_alert, {
      kind: payload.kind_label,
      count: payload.child_count,
    }), "health", payload.alert_id);
  };

  Dashboard.prototype.banner = function (text, kind, id) {
    var node = this.field("banner");
    if (!node) return;
    node.textContent = text;
    node.hidden = false;
    node.setAttribute("data-kind", kind);
    node.setAttribute("data-id", id === undefined ? "" : String(id));
    node.classList.toggle("hx-dash-banner-health", kind === "health");
    node.classList.remove("hx-dash-flash");
    void node.offsetWidth; // restart the animation
    node.classList.add("hx-dash-flash");
    clearTimeout(this.bannerTimer);
    this.bannerTimer = setTimeout(function () { node.hidden = true; }, BANNER_MS);
  };

  /* Ask for the panels (null: all of them and the breakdown) and flash those named in
     `flash`; a few events at once make one request. */
  Dashboard.prototype.refresh = function (panels, flash) {
    var self = this;
    if (!panels) this.wanted.all = true;
    (panels || []).forEach(function (name) { self.wanted[name] = true; });
    (flash || []).forEach(function (name) { self.flash[name] = true; });
    clearTimeout(this.debounce);
    this.debounce = setTimeout(function () { self.load(); }, DEBOUNCE_MS);
  };

  Dashboard.prototype.load = function () {
    var self = this;
    if (this.busy) { this.refresh([]); return; }
    var all = !!this.wanted.all;
    var names = Object.keys(this.wanted).filter(function (n) { return n !== "all"; });
    if (!all && !names.length) return;
    var flash = this.flash;
    this.wanted = {};
    this.flash = {};
    var url = this.config.fragment_url;
    var query = all ? [] : names.map(function (n) { return "panel=" + encodeURIComponent(n); });
    if (this.config.screen) query.push("screen=1");
    if (query.length) url += (url.indexOf("?") >= 0 ? "&" : "?") + query.join("&");
    this.busy = true;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        self.busy = false;
        self.swap(html, flash);
      })
      .catch(function () { self.busy = false; });
  };

  Dashboard.prototype.swap = function (html, flash) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var grid = this.field("panels");
    var self = this;
    template.content.querySelectorAll("[data-panel]").forEach(function (fresh) {
      var name = fresh.getAttribute("data-panel");
      var old = self.root.querySelector("[data-panel=" + name + "]");
      if (old) {
        disposeCharts(old);
        old.replaceWith(fresh);
      } else if (name !== "breakdown" && grid) {
        grid.appendChild(fresh);
      } else {
        return;
      }
      drawCharts(fresh, self.dark);
      if (flash[name]) fresh.classList.add("hx-dash-flash");
    });
    var updated = this.field("updated");
    if (updated) updated.textContent = format(this.strings.updated, { time: clock(new Date()) });
    // When the kept panels were read (only a fragment that carried them says so).
    var stamp = template.content.querySelector("[data-figures-at]");
    var figuresAt = this.field("figures-at");
    if (stamp && figuresAt) figuresAt.textContent = stamp.content.textContent;
  };

  Dashboard.prototype.startTimers = function () {
    var self = this;
    var seconds = Number(this.config.refresh_seconds) || 0;
    if (seconds > 0) this.refresher = setInterval(function () { self.refresh(null); }, seconds * 1000);
    var face = this.field("clock");
    if (face) {
      var tick = function () { face.textContent = clock(new Date()); };
      tick();
      setInterval(tick, 1000);
    }
  };

  window.HuxiaoDashboard = { Dashboard: Dashboard, EventSocket: EventSocket, chartOption: chartOption };

  function start() {
    document.querySelectorAll("[data-dashboard]").forEach(function (root) {
      var config = readConfig(root);
      if (config) root.huxiaoDashboard = new Dashboard(root, config);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
