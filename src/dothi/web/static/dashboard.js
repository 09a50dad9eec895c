/* dothi operations dashboard: indicators, the map of the wards, the live alarm feed,
   charts, search, the leader's and the wall's views, and an entity's charts.
   Plain script, no build step. Needs Leaflet + markercluster and ECharts (vendored) on
   the pages that draw maps and charts. Every word shown comes from the page
   (#dash-text, translated on the server); times are shown in the deployment's zone. */
(function () {
  "use strict";

  var T = {};
  var ZONE = "Asia/Ho_Chi_Minh";
  var LANG = "vi";
  var REFRESH_MS = 60000;
  var SEVERITY_COLOURS = { critical: "#c62828", warning: "#ef8f00", info: "#1e6fd9" };
  var STATE_COLOURS = { ok: "#2e9d4a", warning: "#ef8f00", critical: "#c62828", offline: "#8a96a3" };
  var INCIDENT_COLOURS = { critical: "#c62828", high: "#e65100", normal: "#0b5cad", low: "#5b6b7b" };
  var HEALTH_COLOURS = { online: "#1565c0", degraded: "#ef8f00", offline: "#8a96a3", unknown: "#b0bac5" };
  var SHADES = ["#eef2f6", "#fde3c8", "#fbc48f", "#f59a5b", "#e2603a", "#b7312a"];
  var AQI_BANDS = [
    [0, 50, "#00e400"], [51, 100, "#ffff00"], [101, 150, "#ff7e00"],
    [151, 200, "#ff0000"], [201, 300, "#8f3f97"], [301, 500, "#7e0023"]
  ];

  // Helpers ---------------------------------------------------------------------------

  function fill(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (_, name) {
      return values[name] === undefined ? "" : values[name];
    });
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (answer) {
        if (!answer.ok) { throw new Error(answer.status + " " + url); }
        return answer.json();
      });
  }

  function element(tag, className, text) {
    var made = document.createElement(tag);
    if (className) { made.className = className; }
    if (text !== undefined && text !== null) { made.textContent = text; }
    return made;
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  var formats = {};
  function format(kind) {
    if (!formats[kind]) {
      var locale = LANG === "vi" ? "vi-VN" : "en-GB";
      var options = {
        time: { hour: "2-digit", minute: "2-digit" },
        clock: { weekday: "short", day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" },
        stamp: { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" },
        date: { day: "2-digit", month: "2-digit", year: "numeric" },
        parts: { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" }
      }[kind];
      options.timeZone = ZONE;
      options.hourCycle = "h23";
      formats[kind] = new Intl.DateTimeFormat(kind === "parts" ? "en-GB" : locale, options);
    }
    return formats[kind];
  }

  function shown(iso, kind) {
    if (!iso) { return ""; }
    var moment = new Date(iso);
    return isNaN(moment) ? "" : format(kind || "stamp").format(moment);
  }

  // ECharts draws time axes in UTC here: a time moved by the zone's offset reads as local.
  function zoned(iso) {
    var moment = new Date(iso).getTime();
    var p = {};
    format("parts").formatToParts(new Date(moment)).forEach(function (part) { p[part.type] = part.value; });
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
  }

  function percent(value) {
    if (value === null || value === undefined) { return "–"; }
    var share = value * 100;  // the API gives fractions (0–1)
    return share.toFixed(share >= 99.95 || share === 0 ? 0 : 1) + " %";
  }

  function aqiLevel(aqi) {
    for (var i = 0; i < AQI_BANDS.length; i += 1) {
      if (aqi <= AQI_BANDS[i][1]) { return i + 1; }
    }
    return AQI_BANDS.length;
  }

  function localId(entity) {
    var parts = String(entity || "").split(":");
    return parts.length > 3 ? parts.slice(3).join(":") : String(entity || "");
  }

  function failed(box, what) {
    box.classList.add("no-data");
    box.setAttribute("data-failed", "true");
    box.textContent = fill(T.failed, { what: what });
  }

  // The clock ------------------------------------------------------------------------------

  function clock(node) {
    function tick() { node.textContent = format("clock").format(new Date()); }
    tick();
    setInterval(tick, 1000);
  }

  // Indicator tiles ------------------------------------------------------------------------

  function indicators(box) {
    function pick(data, path) {
      return path.split(".").reduce(function (at, key) { return at == null ? at : at[key]; }, data);
    }
    function load() {
      return getJSON("/api/v1/dashboard/overview").then(function (data) {
        box.querySelectorAll("[data-kpi]").forEach(function (node) {
          var value = pick(data, node.dataset.kpi);
          var kind = node.dataset.format;
          if (kind === "percent") { node.textContent = percent(value); }
          else if (value === null || value === undefined) { node.textContent = "–"; }
          else { node.textContent = Math.round(value).toLocaleString(LANG); }
        });
        var notes = {
          unacknowledged: fill(T.unacknowledged, { count: data.alarms.unacknowledged }),
          period: data.reports.period ? fill(T.period, { start: shown(data.reports.period.start, "date") }) : "",
          sensors: fill(T.of_sensors, { online: data.sensors.online, total: data.sensors.total }),
          worst: data.aqi.worst_ward ? fill(T.worst, data.aqi.worst_ward) : ""
        };
        box.querySelectorAll("[data-kpi-note]").forEach(function (node) {
          node.textContent = notes[node.dataset.kpiNote] || "";
        });
        var aqi = box.querySelector(".kpi-aqi");
        if (aqi && data.aqi.now !== null && data.aqi.now !== undefined) {
          aqi.dataset.level = String(aqiLevel(data.aqi.now));
        }
        box.setAttribute("aria-busy", "false");
        box.dataset.ready = "true";
      }).catch(function () {
        box.dataset.ready = "failed";
        box.setAttribute("aria-busy", "false");
      });
    }
    load();
    setInterval(load, REFRESH_MS);
    return debounce(load, 1500);
  }

  // The map -------------------------------------------------------------------------------

  function clusterIcon(kind) {
    return function (cluster) {
      var count = cluster.getChildCount();
      var worst = "";
      if (kind === "alarms") {
        var severities = cluster.getAllChildMarkers().map(function (m) { return m.options.severity; });
        worst = ["critical", "warning", "info"].filter(function (s) { return severities.indexOf(s) >= 0; })[0] || "";
      }
      var size = count < 10 ? 30 : count < 100 ? 36 : 44;
      return L.divIcon({
        html: "<span>" + count + "</span>",
        className: "cluster cluster-" + kind + (worst ? " sev-" + worst : ""),
        iconSize: [size, size]
      });
    };
  }

  function popup(title, lines, link) {
    var box = element("div", "map-popup");
    box.appendChild(element("strong", "", title));
    lines.forEach(function (line) { if (line) { box.appendChild(element("p", "", line)); } });
    if (link) {
      var anchor = element("a", "", T.open_page);
      anchor.href = link;
      box.appendChild(anchor);
    }
    return box;
  }

  function shadeOf(value, top) {
    if (!value) { return document.body.classList.contains("wall") ? "#2b3d52" : SHADES[0]; }
    var step = Math.min(SHADES.length - 1, 1 + Math.floor((value / Math.max(top, 1)) * (SHADES.length - 2)));
    return SHADES[step];
  }

  function dashMap(node, onReady) {
    var sensorsOn = node.dataset.sensors !== "off";
    var map = L.map(node, { preferCanvas: true, zoomSnap: 0.25, maxZoom: 19 }).setView([10.8, 106.68], 14);
    map.createPane("roads").style.zIndex = 350;
    map.createPane("points").style.zIndex = 450;
    var points = L.canvas({ pane: "points" });
    var osm = "© OpenStreetMap contributors";
    var roadsShown = false;

    function roads() {
      if (roadsShown || !node.dataset.roads) { return; }
      roadsShown = true;
      node.classList.add("plain");
      getJSON(node.dataset.roads).then(function (data) {
        L.geoJSON(data, {
          pane: "roads", interactive: false, attribution: osm,
          style: function (f) {
            var major = /trunk|primary/.test(f.properties.highway);
            return { color: "#9aa7b5", weight: major ? 3 : 1.8, opacity: 0.9 };
          }
        }).addTo(map);
      }).catch(function () { /* the wards and points still show */ });
    }

    if (node.dataset.tiles) {
      var loaded = false, errors = 0;
      var tiles = L.tileLayer(node.dataset.tiles, { maxZoom: 19, attribution: node.dataset.attribution || osm });
      tiles.on("tileload", function () { loaded = true; });
      tiles.on("tileerror", function () {
        errors += 1;
        if (!loaded && errors >= 3) { map.removeLayer(tiles); roads(); }
      });
      tiles.addTo(map);
    } else {
      roads();
    }

    // Wards, shaded by open alarms or overdue reports.
    var shade = "open_alarms";
    var wards = L.geoJSON(null, {
      renderer: L.svg(),
      attribution: osm,
      style: function () { return { className: "ward", color: "#3d5a80", weight: 1.4, fillOpacity: 0.55 }; },
      onEachFeature: function (feature, layer) {
        layer.bindTooltip(function () { return wardTip(feature.properties); }, { sticky: true });
      }
    }).addTo(map);

    function wardTip(p) {
      var box = element("div", "ward-tip");
      box.appendChild(element("strong", "", p.name));
      [["open_alarms", T.open_alarms], ["critical_alarms", T.critical_alarms],
        ["open_reports", T.open_reports], ["overdue_reports", T.overdue_reports], ["aqi", T.aqi]]
        .forEach(function (pair) {
          if (p[pair[0]] !== undefined && p[pair[0]] !== null) {
            box.appendChild(element("p", "", pair[1] + ": " + Math.round(p[pair[0]])));
          }
        });
      return box;
    }

    function restyle() {
      var top = 0;
      wards.eachLayer(function (l) { top = Math.max(top, l.feature.properties[shade] || 0); });
      wards.eachLayer(function (l) {
        l.setStyle({ fillColor: shadeOf(l.feature.properties[shade] || 0, top) });
      });
      var legend = document.getElementById("shade-legend");
      if (legend) {
        legend.textContent = "";
        legend.appendChild(element("span", "", (shade === "open_alarms" ? T.open_alarms : T.overdue_reports) + ":"));
        [0, Math.ceil(top / 2), top].forEach(function (v, i, steps) {
          if (steps.indexOf(v) !== i) { return; }  // 0 and 1 open: two steps, not three
          var sw = element("span", "swatch");
          sw.style.background = shadeOf(v, top);
          legend.appendChild(sw);
          legend.appendChild(element("span", "", String(v)));
        });
      }
    }

    var fitted = false;
    function fit() {
      map.invalidateSize();
      if (wards.getLayers().length) { map.fitBounds(wards.getBounds(), { padding: [8, 8] }); fitted = true; }
    }
    function loadWards() {
      return getJSON("/api/v1/dashboard/wards")
        .catch(function () { return getJSON("/api/v1/places?level=ward"); })
        .then(function (data) {
          wards.clearLayers();
          wards.addData(data);
          restyle();
          if (!fitted) { fit(); }
          node.dataset.wards = String(wards.getLayers().length);
        })
        .catch(function () { node.dataset.wards = "0"; });
    }

    document.querySelectorAll("input[name='shade']").forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (radio.checked) { shade = radio.value; node.dataset.shade = shade; restyle(); }
      });
    });
    node.dataset.shade = shade;

    // Point layers, clustered.
    var groups = {};
    function group(kind) {
      if (!groups[kind]) {
        groups[kind] = L.markerClusterGroup({
          chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 45,
          spiderfyOnMaxZoom: true, iconCreateFunction: clusterIcon(kind)
        });
      }
      return groups[kind];
    }

    function dot(feature, colour, extra) {
      var c = feature.geometry && feature.geometry.coordinates;
      if (!c) { return null; }
      var options = { renderer: points, radius: 6, color: "#fff", weight: 1.5, fillColor: colour, fillOpacity: 0.95 };
      Object.keys(extra || {}).forEach(function (k) { options[k] = extra[k]; });
      return L.circleMarker([c[1], c[0]], options);
    }

    function toggle(kind, on) {
      var layer = group(kind);
      if (on) { map.addLayer(layer); } else { map.removeLayer(layer); }
      node.dataset[kind] = on ? "on" : "off";
    }

    function count(kind, n) {
      var out = document.querySelector("output[data-count='" + kind + "']");
      if (out) { out.textContent = "(" + n + ")"; }
      node.dataset[kind + "Count"] = String(n);
    }

    function loadAlarms() {
      return getJSON("/api/v1/dashboard/layers/alarms").then(function (data) {
        var layer = group("alarms");
        layer.clearLayers();
        var made = data.features.map(function (f) {
          var p = f.properties;
          var marker = dot(f, SEVERITY_COLOURS[p.severity] || "#555", { radius: 8, severity: p.severity });
          if (marker) {
            marker.bindPopup(popup(p.rule_name, [
              (T.severity[p.severity] || p.severity) + " · " + (T.state[p.state] || p.state),
              localId(p.entity) + (p.value !== null && p.value !== undefined ? " · " + T.value + ": " + p.value : ""),
              shown(p.raised_at)
            ], "/entities/" + encodeURIComponent(p.entity)));
          }
          return marker;
        }).filter(Boolean);
        layer.addLayers(made);
        count("alarms", made.length);
      }).catch(function () { count("alarms", 0); });
    }

    function loadReports() {
      return getJSON("/api/v1/dashboard/layers/reports").then(function (data) {
        var layer = group("reports");
        layer.clearLayers();
        var made = data.features.map(function (f) {
          var p = f.properties;
          var marker = dot(f, p.overdue ? "#c62828" : "#6a3fb5", { radius: 6 });
          if (marker) {
            marker.bindPopup(popup(p.code, [
              p.category_name, p.state_label + (p.overdue ? " · " + T.overdue : ""),
              shown(p.submitted_at) + (p.due_at ? " · " + T.due + " " + shown(p.due_at) : "")
            ], "/workspace/reports/" + encodeURIComponent(p.code)));
          }
          return marker;
        }).filter(Boolean);
        layer.addLayers(made);
        count("reports", made.length);
      }).catch(function () { count("reports", 0); });
    }

    function loadCameras() {
      return getJSON("/api/v1/dashboard/layers/cameras").then(function (data) {
        var layer = group("cameras");
        layer.clearLayers();
        var made = data.features.map(function (f) {
          var p = f.properties;
          var marker = dot(f, HEALTH_COLOURS[p.health] || HEALTH_COLOURS.unknown, { radius: 5 });
          if (!marker) { return null; }
          var box = popup(p.name, [
            p.code + " · " + (T.health[p.health] || p.health),
            p.purposes.map(function (x) { return T.purposes[x] || x; }).join(", ")
          ], null);
          if (p.has_snapshot) {
            // Faces and plates come pixelated; the picture is asked for only when opened.
            var picture = element("img", "snapshot");
            picture.alt = fill(T.snapshot_of, { name: p.name });
            box.appendChild(picture);
            marker.on("popupopen", function () {
              picture.src = "/api/v1/cameras/" + encodeURIComponent(p.code) + "/snapshot?t=" + Date.now();
            });
          }
          marker.bindPopup(box);
          return marker;
        }).filter(Boolean);
        layer.addLayers(made);
        count("cameras", made.length);
      }).catch(function () { count("cameras", 0); });
    }

    function loadIncidents() {
      return getJSON("/api/v1/dashboard/layers/incidents").then(function (data) {
        var layer = group("incidents");
        layer.clearLayers();
        var made = data.features.map(function (f) {
          var p = f.properties;
          var marker = dot(f, INCIDENT_COLOURS[p.priority] || INCIDENT_COLOURS.normal, { radius: 7, color: "#1c2733" });
          if (!marker) { return null; }
          marker.bindPopup(popup(p.title, [
            (T.incident_types[p.type] || p.type_label) + " · " + (T.incident_status[p.status] || p.status_label),
            shown(p.opened_at) + (p.late_steps ? " · " + fill(T.late_steps, { count: p.late_steps }) : "")
          ], "/incidents/" + encodeURIComponent(p.id)));
          return marker;
        }).filter(Boolean);
        layer.addLayers(made);
        count("incidents", made.length);
      }).catch(function () { count("incidents", 0); });
    }

    var byType = {};
    function loadSensors() {
      return getJSON("/api/v1/dashboard/layers/sensors").then(function (data) {
        var layer = group("sensors");
        layer.clearLayers();
        byType = {};
        data.features.forEach(function (f) {
          var p = f.properties;
          var marker = dot(f, STATE_COLOURS[p.state] || STATE_COLOURS.offline, { radius: 5 });
          if (!marker) { return; }
          var values = Object.keys(p.values || {}).slice(0, 4).map(function (k) { return k + ": " + p.values[k]; }).join(" · ");
          marker.bindPopup(popup(p.name || localId(p.id), [
            (T.types[p.type] || p.type) + " · " + (T.state[p.state] || p.state), p.ward, values,
            p.last_seen ? T.last_seen + ": " + shown(p.last_seen) : ""
          ], "/entities/" + encodeURIComponent(p.id)));
          (byType[p.type] = byType[p.type] || []).push(marker);
        });
        sensorSwitches(layer);
      }).catch(function () { count("sensors", 0); });
    }

    function sensorSwitches(layer) {
      var box = document.getElementById("sensor-types");
      var on = sensorsOn;
      if (!box) { if (on) { Object.keys(byType).forEach(function (t) { layer.addLayers(byType[t]); }); } return; }
      box.textContent = "";
      var total = 0;
      Object.keys(byType).sort().forEach(function (type) {
        var label = element("label", "check");
        var input = element("input");
        input.type = "checkbox";
        input.checked = on;
        input.dataset.sensorType = type;
        input.addEventListener("change", function () {
          if (input.checked) { layer.addLayers(byType[type]); } else { layer.removeLayers(byType[type]); }
          node.dataset["type" + type] = input.checked ? "on" : "off";
        });
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + (T.types[type] || type) + " "));
        label.appendChild(element("output", "", "(" + byType[type].length + ")"));
        box.appendChild(label);
        if (on) { layer.addLayers(byType[type]); }
        total += byType[type].length;
      });
      count("sensors", total);
    }

    document.querySelectorAll("#layers input[data-layer]").forEach(function (input) {
      toggle(input.dataset.layer, input.checked);
      input.addEventListener("change", function () { toggle(input.dataset.layer, input.checked); });
    });
    if (!document.querySelector("#layers input[data-layer='alarms']")) { toggle("alarms", true); }
    map.addLayer(group("sensors"));

    Promise.all([loadWards(), loadAlarms(), loadReports(), loadSensors(), loadCameras(), loadIncidents()]).then(function () {
      node.dataset.ready = "true";
      if (onReady) { onReady(); }
    });
    setInterval(function () { loadWards(); loadReports(); loadSensors(); loadCameras(); loadIncidents(); }, REFRESH_MS);
    var alarmsChanged = debounce(function () { loadWards(); loadAlarms(); }, 1500);
    return { map: map, fit: fit, alarmsChanged: alarmsChanged };
  }

  // The live alarm feed ---------------------------------------------------------------------

  function csrf() {
    var meta = document.querySelector("meta[name='csrf-token']");
    return meta ? meta.content : "";
  }

  function alarmRow(alarm, canAck, wardNames) {
    var row = element("li", "alarm");
    row.dataset.alarm = alarm.id;
    var badge = element("span", "sev-badge");
    var main = element("div", "alarm-main");
    var title = element("strong", "alarm-rule");
    var where = element("span", "alarm-where");
    var link = element("a");
    var when = element("time", "alarm-time");
    var state = element("span", "alarm-state");
    main.appendChild(title);
    main.appendChild(where);
    where.appendChild(link);
    where.appendChild(when);
    where.appendChild(state);
    row.appendChild(badge);
    row.appendChild(main);
    var button = null;
    if (canAck) {
      button = element("button", "ack", T.acknowledge);
      button.type = "button";
      button.addEventListener("click", function () { acknowledge(row, button); });
      row.appendChild(button);
    }
    if (canAck && document.getElementById("dash").dataset.canOpen === "true") {
      var opener = element("button", "open-incident", T.open_incident);
      opener.type = "button";
      opener.addEventListener("click", function () { openIncident(row, opener); });
      row.appendChild(opener);
    }
    row.update = function (a) {
      row.className = "alarm sev-" + a.severity + " state-" + a.state;
      row.dataset.state = a.state;
      badge.className = "sev-badge sev-" + a.severity;
      badge.textContent = T.severity[a.severity] || a.severity;
      title.textContent = a.rule_name;
      link.href = "/entities/" + encodeURIComponent(a.entity);
      var ward = wardNames[a.ward] || "";
      link.textContent = localId(a.entity) + (ward ? " · " + ward : "");
      when.dateTime = a.raised_at;
      when.textContent = shown(a.raised_at, "time");
      state.textContent = T.state[a.state] || a.state;
      if (button) {
        button.hidden = a.state !== "active";
        button.disabled = false;
        button.setAttribute("aria-label", T.acknowledge + ": " + a.rule_name + " " + link.textContent);
      }
    };
    row.update(alarm);
    return row;
  }

  function acknowledge(row, button) {
    button.disabled = true;
    fetch("/api/v1/alarms/" + encodeURIComponent(row.dataset.alarm) + "/acknowledge", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf() },
      body: "{}"
    }).then(function (answer) {
      return answer.json().then(function (body) {
        if (!answer.ok) { throw new Error(body.detail || body.title || answer.status); }
        row.update({
          id: body.id, severity: body.severity, state: body.state, rule_name: body.rule_name,
          entity: body.entity_id, ward: body.ward_id, raised_at: body.raised_at
        });
      });
    }).catch(function (error) { rowError(row, button, fill(T.ack_failed, { reason: error.message })); });
  }

  function rowError(row, button, text) {
    button.disabled = false;
    var note = row.querySelector(".alarm-error") || row.appendChild(element("p", "alarm-error"));
    note.setAttribute("role", "alert");
    note.textContent = text;
  }

  function openIncident(row, button) {  // the alarm's incident, with its SOP started
    button.disabled = true;
    fetch("/api/v1/incidents/from-alarm", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify({ alarm_id: row.dataset.alarm })
    }).then(function (answer) {
      return answer.json().then(function (body) {
        if (!answer.ok) { throw new Error(body.detail || body.title || answer.status); }
        window.location.assign("/incidents/" + encodeURIComponent(body.id));
      });
    }).catch(function (error) { rowError(row, button, fill(T.open_failed, { reason: error.message })); });
  }

  function liveFeed(list, onChange) {
    var canAck = document.getElementById("dash").dataset.canAck === "true";
    var limit = +list.dataset.limit || 50;
    var wardNames = JSON.parse((document.getElementById("dash-wards") || {}).textContent || "{}");
    var status = document.getElementById("feed-status");
    var rows = {};
    var empty = element("li", "feed-empty", T.no_alarms);
    list.appendChild(empty);

    function upsert(alarm, fresh) {
      var row = rows[alarm.id];
      if (row) {
        row.update(alarm);
      } else {
        row = rows[alarm.id] = alarmRow(alarm, canAck, wardNames);
        if (fresh) { list.insertBefore(row, list.firstChild); } else { list.appendChild(row); }
      }
      if (fresh) {
        row.classList.add("fresh");
        setTimeout(function () { row.classList.remove("fresh"); }, 4000);
      }
      empty.hidden = true;
      while (list.children.length > limit + 1) {
        var last = list.lastElementChild === empty ? empty.previousElementSibling : list.lastElementChild;
        delete rows[last.dataset.alarm];
        list.removeChild(last);
      }
      list.dataset.count = String(Object.keys(rows).length);
    }

    function connect() {
      var source = new EventSource("/api/v1/stream");
      source.addEventListener("open", function () {
        if (status) { status.textContent = T.live; status.dataset.state = "live"; }
        list.dataset.live = "true";
      });
      source.addEventListener("error", function () {
        if (status) { status.textContent = T.reconnecting; status.dataset.state = "retry"; }
      });
      source.addEventListener("alarm", function (event) {
        var d = JSON.parse(event.data);
        upsert({
          id: d.alarm, severity: d.severity, state: d.state, rule_name: d.rule_name,
          entity: d.entity, ward: d.ward, raised_at: d.raised_at
        }, d.kind === "raised" || d.kind === "reopened" || !rows[d.alarm]);
        if (onChange) { onChange(d); }
      });
      window.addEventListener("pagehide", function () { source.close(); });
    }

    getJSON("/api/v1/alarms?limit=" + limit).then(function (page) {  // the open ones
      page.items.forEach(function (a) {
        if (rows[a.id]) { return; }
        upsert({
          id: a.id, severity: a.severity, state: a.state, rule_name: a.rule_name,
          entity: a.entity_id, ward: a.ward_id, raised_at: a.raised_at
        }, false);
      });
    }).catch(function () { /* the live feed still comes */ }).then(function () {
      list.dataset.ready = "true";
    });
    connect();
  }

  // Charts ----------------------------------------------------------------------------------

  function chartBase(dark, big) {
    var size = big ? 18 : 12;
    return {
      backgroundColor: "transparent",
      useUTC: true,
      textStyle: { fontSize: size, fontFamily: "system-ui, sans-serif" },
      grid: { left: big ? 64 : 44, right: 18, top: 24, bottom: big ? 84 : 62 },
      tooltip: { trigger: "axis", confine: true },
      legend: { type: "scroll", bottom: 0, textStyle: { fontSize: size, color: dark ? "#dfe7ef" : "#334" } }
    };
  }

  var TIME_LABELS = { year: "{yyyy}", month: "{MM}/{yyyy}", day: "{dd}/{MM}", hour: "{HH}:{mm}", minute: "{HH}:{mm}" };

  function timeAxis(big) {
    return { type: "time", axisLabel: { formatter: TIME_LABELS, fontSize: big ? 16 : 11, hideOverlap: true } };
  }

  var CHARTS = {
    aqi: function (data, dark, big) {
      var series = data.series.map(function (s, i) {
        var line = {
          name: s.name, type: "line", showSymbol: false, smooth: true,
          data: s.points.map(function (p) { return [zoned(p[0]), p[1]]; })
        };
        if (i === 0) {
          line.markArea = {
            silent: true,
            data: AQI_BANDS.slice(0, 4).map(function (b) {
              return [{ yAxis: b[0], itemStyle: { color: b[2], opacity: dark ? 0.08 : 0.1 } }, { yAxis: b[1] }];
            })
          };
        }
        return line;
      });
      return Object.assign(chartBase(dark, big), {
        xAxis: timeAxis(big), yAxis: { type: "value", name: T.aqi, min: 0 }, series: series
      });
    },
    flood: function (data, dark, big) {
      var series = data.series.map(function (s, i) {
        var line = {
          name: s.name + (s.ward ? " (" + s.ward + ")" : ""), type: "line", showSymbol: false,
          data: s.points.map(function (p) { return [zoned(p[0]), p[1]]; })
        };
        if (i === 0) {
          line.markLine = {
            silent: true, symbol: "none",
            data: [
              { yAxis: 10, lineStyle: { color: SEVERITY_COLOURS.warning, type: "dashed" }, label: { formatter: "10 cm" } },
              { yAxis: 30, lineStyle: { color: SEVERITY_COLOURS.critical, type: "dashed" }, label: { formatter: "30 cm" } }
            ]
          };
        }
        return line;
      });
      return Object.assign(chartBase(dark, big), {
        xAxis: timeAxis(big), yAxis: { type: "value", name: T.level_cm, min: 0 }, series: series
      });
    },
    reports: function (data, dark, big) {
      var days = data.days.map(function (d) { var p = String(d).split("-"); return p.length === 3 ? p[2] + "/" + p[1] : d; });
      return Object.assign(chartBase(dark, big), {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
        xAxis: { type: "category", data: days, axisLabel: { fontSize: big ? 16 : 11, hideOverlap: true } },
        yAxis: { type: "value", minInterval: 1 },
        series: data.series.map(function (s) {
          return { name: s.name, type: "bar", stack: "all", data: s.counts, barMaxWidth: 18 };
        })
      });
    }
  };

  function charts(root, dark, big) {
    var made = [];
    root.querySelectorAll("[data-chart]").forEach(function (box) {
      var chart = echarts.init(box, dark ? "dark" : null);
      made.push(chart);
      function load() {
        return getJSON(box.dataset.src).then(function (data) {
          chart.setOption(CHARTS[box.dataset.chart](data, dark, big), true);
          box.dataset.ready = "true";
        }).catch(function () {
          chart.dispose();
          failed(box, T.charts);
        });
      }
      load();
      setInterval(function () { if (box.dataset.ready === "true") { load(); } }, REFRESH_MS * 5);
    });
    window.addEventListener("resize", debounce(function () {
      made.forEach(function (c) { if (!c.isDisposed()) { c.resize(); } });
    }, 150));
    return made;
  }

  // Queues: reports by unit, top alarms ----------------------------------------------------------

  function queues() {
    var table = document.querySelector("#units tbody");
    var top = document.getElementById("top-alarms");
    var bars = document.getElementById("unit-bars");
    if (!table && !top && !bars) { return; }
    getJSON("/api/v1/dashboard/queues").then(function (data) {
      var units = data.units.slice().sort(function (a, b) { return b.overdue - a.overdue || b.open - a.open; });
      if (table) {
        table.textContent = "";
        units.forEach(function (u) {
          var row = element("tr", u.overdue ? "overdue" : "");
          row.appendChild(element("td", "", u.name));
          row.appendChild(element("td", "num", String(u.open)));
          row.appendChild(element("td", "num", String(u.overdue)));
          table.appendChild(row);
        });
        table.closest("table").dataset.ready = "true";
      }
      if (bars) {
        bars.textContent = "";
        var most = Math.max.apply(null, units.map(function (u) { return u.overdue; }).concat([1]));
        units.filter(function (u) { return u.overdue > 0; }).forEach(function (u) {
          var item = element("li");
          item.appendChild(element("span", "unit-name", u.name));
          var bar = element("span", "unit-bar");
          bar.style.width = Math.max(4, (u.overdue / most) * 100) + "%";
          item.appendChild(bar);
          item.appendChild(element("b", "unit-count", String(u.overdue)));
          bars.appendChild(item);
        });
        if (!bars.children.length) { bars.appendChild(element("li", "feed-empty", "0")); }
        bars.dataset.ready = "true";
      }
      if (top) {
        top.textContent = "";
        data.top_alarms.forEach(function (a) {
          var row = alarmRow({
            id: a.id, severity: a.severity, state: a.state, rule_name: a.rule_name,
            entity: a.entity, ward: a.ward, raised_at: a.raised_at
          }, false, {});
          top.appendChild(row);
        });
        if (!data.top_alarms.length) { top.appendChild(element("li", "feed-empty", T.no_alarms)); }
        top.dataset.ready = "true";
      }
    }).catch(function () {
      [table && table.closest("table"), top, bars].forEach(function (box) {
        if (box) { box.dataset.ready = "failed"; }
      });
    });
  }

  // Search ----------------------------------------------------------------------------------

  function search(form) {
    var input = form.querySelector("input[type='search']");
    var list = form.querySelector("[role='listbox']");
    var found = [], active = -1, asked = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function mark(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (item, i) {
        item.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0 && list.children[index]) {
        input.setAttribute("aria-activedescendant", list.children[index].id);
        list.children[index].scrollIntoView({ block: "nearest" });
      }
    }

    function open(index) {
      var item = found[index];
      if (item && item.url) { window.location.assign(item.url); }
    }

    function show(results) {
      found = results;
      list.textContent = "";
      results.forEach(function (r, i) {
        var item = element("li", "result");
        item.id = "dash-result-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.appendChild(element("span", "result-kind kind-" + r.kind, T.results[r.kind] || r.kind));
        item.appendChild(element("span", "result-label", r.label));
        if (r.detail) { item.appendChild(element("small", "result-detail", r.detail)); }
        item.addEventListener("mousedown", function (event) { event.preventDefault(); open(i); });
        list.appendChild(item);
      });
      if (!results.length) {
        var none = element("li", "result empty", T.no_results);
        none.setAttribute("role", "option");
        none.setAttribute("aria-disabled", "true");
        list.appendChild(none);
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      mark(-1);
    }

    var run = debounce(function () {
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      var mine = ++asked;
      getJSON(form.dataset.search + "?limit=8&q=" + encodeURIComponent(q)).then(function (data) {
        if (mine === asked) { show(data.results); }
      }).catch(function () { if (mine === asked) { show([]); } });
    }, 200);

    input.addEventListener("input", run);
    input.addEventListener("keydown", function (event) {
      var n = found.length;
      if (event.key === "ArrowDown" && n) { event.preventDefault(); list.hidden = false; mark((active + 1) % n); }
      else if (event.key === "ArrowUp" && n) { event.preventDefault(); mark(active <= 0 ? n - 1 : active - 1); }
      else if (event.key === "Enter") { event.preventDefault(); if (n) { open(active >= 0 ? active : 0); } }
      else if (event.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
  }

  // The wall: panels in turn ------------------------------------------------------------------

  function rotate(root, parts) {
    var panels = Array.prototype.slice.call(root.querySelectorAll(".wall-panel"));
    var dots = Array.prototype.slice.call(root.querySelectorAll(".wall-dots [data-show]"));
    var pause = root.querySelector(".wall-pause");
    var current = 0, paused = false;
    function show(index) {
      current = (index + panels.length) % panels.length;
      panels.forEach(function (panel, i) {
        panel.classList.toggle("is-current", i === current);
        panel.setAttribute("aria-hidden", i === current ? "false" : "true");
      });
      dots.forEach(function (dot) {
        dot.setAttribute("aria-current", dot.dataset.show === panels[current].dataset.panel ? "true" : "false");
      });
      root.dataset.panel = panels[current].dataset.panel;
      if (parts.map) { parts.map.fit(); }
      parts.charts.forEach(function (c) { if (!c.isDisposed()) { c.resize(); } });
    }
    dots.forEach(function (dot) {
      dot.addEventListener("click", function () {
        show(panels.findIndex(function (p) { return p.dataset.panel === dot.dataset.show; }));
      });
    });
    if (pause) {
      pause.addEventListener("click", function () {
        paused = !paused;
        pause.setAttribute("aria-pressed", paused ? "true" : "false");
      });
    }
    show(0);
    setInterval(function () { if (!paused) { show(current + 1); } }, (+root.dataset.rotate || 20) * 1000);
  }

  // An entity's charts ---------------------------------------------------------------------------

  var RANGES = { "24h": [1, "15m"], "7d": [7, "1h"], "30d": [30, "3h"] };

  function entityCharts(root) {
    var boxes = Array.prototype.slice.call(root.querySelectorAll("[data-attr]"));
    var made = boxes.map(function (box) { return { box: box, chart: echarts.init(box) }; });
    function load(range) {
      var span = RANGES[range], end = new Date(), start = new Date(end.getTime() - span[0] * 864e5);
      made.forEach(function (item) {
        var url = root.dataset.series + "?attr=" + encodeURIComponent(item.box.dataset.attr) +
          "&from=" + encodeURIComponent(start.toISOString()) + "&to=" + encodeURIComponent(end.toISOString()) +
          "&every=" + span[1];
        item.box.dataset.ready = "false";
        getJSON(url).then(function (data) {
          item.chart.setOption(Object.assign(chartBase(false, false), {
            legend: { show: false },
            grid: { left: 48, right: 16, top: 16, bottom: 32 },
            xAxis: timeAxis(false),
            yAxis: { type: "value", scale: true, name: data.unitCode || "" },
            series: [{
              name: item.box.dataset.attr, type: "line", showSymbol: false, areaStyle: { opacity: 0.08 },
              data: data.points.map(function (p) { return [zoned(p.t), p.v]; })
            }]
          }), true);
          item.box.dataset.ready = "true";
          item.box.dataset.points = String(data.points.length);
        }).catch(function () { item.box.dataset.ready = "failed"; });
      });
      root.dataset.range = range;
    }
    root.querySelectorAll("input[name='range']").forEach(function (radio) {
      radio.addEventListener("change", function () { if (radio.checked) { load(radio.value); } });
    });
    window.addEventListener("resize", debounce(function () { made.forEach(function (m) { m.chart.resize(); }); }, 150));
    load("24h");
  }

  // Start -----------------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", function () {
    var text = document.getElementById("dash-text");
    if (text) { T = JSON.parse(text.textContent); }
    var root = document.getElementById("dash") || document.getElementById("entity");
    if (!root) { return; }
    ZONE = root.dataset.zone || ZONE;
    LANG = root.dataset.lang || LANG;
    if (root.id === "entity") { if (window.echarts) { entityCharts(root); } return; }

    var clockNode = document.getElementById("dash-clock");
    if (clockNode) { clock(clockNode); }
    var kpis = document.getElementById("kpis");
    var refreshKpis = kpis ? indicators(kpis) : function () {};
    var dark = root.dataset.theme === "dark";
    var big = root.classList.contains("wall-main");
    var mapNode = document.getElementById("dash-map");
    var mapParts = mapNode && window.L ? dashMap(mapNode) : null;
    var made = window.echarts ? charts(root, dark, big) : [];
    var feedList = document.getElementById("feed");
    if (feedList) {
      liveFeed(feedList, function () {
        refreshKpis();
        if (mapParts) { mapParts.alarmsChanged(); }
      });
    }
    queues();
    var form = document.querySelector(".dash-search");
    if (form) { search(form); }
    if (root.dataset.rotate) { rotate(root, { map: mapParts, charts: made }); }
  });
})();
