/* dothi citizen reports: the place picker of the report form, the public map and the
   response templates of the officer's update form.
   Plain script, no build step; needs Leaflet (vendored). Everything still works by
   typing coordinates when this does not run. */
(function () {
  "use strict";

  function baseMap(element) {
    var map = L.map(element, { zoomControl: true }).setView([16.0, 106.0], 5);
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, {
        maxZoom: 19,
        attribution: element.dataset.attribution || ""
      }).addTo(map);
    }
    fetch(element.dataset.places, { headers: { Accept: "application/geo+json" } })
      .then(function (answer) { return answer.json(); })
      .then(function (wards) {
        var layer = L.geoJSON(wards, {
          style: { color: "#0b5cad", weight: 1.5, fillOpacity: 0.04 },
          onEachFeature: function (feature, shape) {
            if (feature.properties && feature.properties.name) {
              shape.bindTooltip(feature.properties.name, { sticky: true });
            }
          }
        }).addTo(map);
        if (layer.getLayers().length) { map.fitBounds(layer.getBounds()); }
        element.dataset.ready = "true";
      })
      .catch(function () { element.dataset.ready = "true"; });
    return map;
  }

  function picker(element) {
    var map = baseMap(element);
    var lat = document.getElementById("lat");
    var lon = document.getElementById("lon");
    var marker = null;

    function place(latitude, longitude, moveMap) {
      if (marker) { marker.setLatLng([latitude, longitude]); }
      else { marker = L.marker([latitude, longitude], { icon: pin() }).addTo(map); }
      if (moveMap) { map.setView([latitude, longitude], Math.max(map.getZoom(), 17)); }
    }

    function choose(latitude, longitude, moveMap) {
      lat.value = latitude.toFixed(6);
      lon.value = longitude.toFixed(6);
      place(latitude, longitude, moveMap);
      lat.dispatchEvent(new Event("change", { bubbles: true }));
    }

    map.on("click", function (event) { choose(event.latlng.lat, event.latlng.lng, false); });
    [lat, lon].forEach(function (input) {
      input.addEventListener("change", function (event) {
        if (!event.isTrusted) { return; }  // our own event after a tap: the map is right
        var y = parseFloat(lat.value.replace(",", ".")), x = parseFloat(lon.value.replace(",", "."));
        if (isFinite(y) && isFinite(x)) { place(y, x, true); }
      });
    });
    if (lat.value && lon.value) { place(parseFloat(lat.value), parseFloat(lon.value), true); }

    var locate = document.getElementById("locate");
    if (locate && navigator.geolocation) {
      locate.hidden = false;
      locate.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(
          function (found) { choose(found.coords.latitude, found.coords.longitude, true); },
          function () { document.getElementById("locate-error").hidden = false; },
          { enableHighAccuracy: true, timeout: 15000 }
        );
      });
    }
  }

  function pin() {
    return L.divIcon({ className: "pin", html: "", iconSize: [22, 22], iconAnchor: [11, 22] });
  }

  var COLOURS = { open: "#b3261e", fixed: "#1e7d32", closed: "#5b6b7b" };

  function publicMap(element) {
    var map = baseMap(element);
    var markers = JSON.parse(document.getElementById("report-markers").textContent);
    markers.forEach(function (item) {
      var popup = document.createElement("div");
      var link = document.createElement("a");
      link.href = item.url;
      link.textContent = item.code;
      var text = document.createElement("p");
      text.textContent = item.category + " · " + item.state;
      popup.appendChild(link);
      popup.appendChild(text);
      L.circleMarker([item.lat, item.lon], {
        radius: 8, color: "#fff", weight: 2, fillOpacity: 0.9,
        fillColor: COLOURS[item.kind] || COLOURS.closed
      }).bindPopup(popup).addTo(map);
    });
    element.dataset.markers = String(markers.length);
  }

  // The officer's update form: a response template fills the note and the state.
  function responseTemplates(select) {
    var note = document.getElementById("update-note");
    var state = document.getElementById("update-state");
    select.addEventListener("change", function () {
      var chosen = select.options[select.selectedIndex];
      if (!chosen.value) { return; }
      note.value = chosen.dataset.text;
      if (chosen.dataset.state) { state.value = chosen.dataset.state; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".js-only").forEach(function (el) { el.classList.add("js-on"); });
    var form = document.getElementById("picker");
    if (form) { picker(form); }
    var overview = document.getElementById("report-map");
    if (overview) { publicMap(overview); }
    var templates = document.getElementById("response-template");
    if (templates) { responseTemplates(templates); }
  });
})();
