// The editors' location picker: click the map or drag the marker to fill the latitude
// and longitude fields; typing coordinates moves the marker; emptying them removes it.
(function () {
  "use strict";
  var PLACED_ZOOM = 10;

  function number(input, limit) {
    var value = input.value.trim() === "" ? NaN : Number(input.value);
    return isFinite(value) && Math.abs(value) <= limit ? value : null;
  }

  window.addEventListener("map:init", function (event) {
    var map = event.detail.map, element = map.getContainer();
    if (!element.classList.contains("location-picker-map")) return;
    var form = element.closest("form");
    var latitude = form.elements[element.dataset.latitude];
    var longitude = form.elements[element.dataset.longitude];
    var marker = null;

    function typed() {
      var lat = number(latitude, 90), lng = number(longitude, 180);
      return lat === null || lng === null ? null : L.latLng(lat, lng);
    }

    function place(latlng) {
      if (marker) return marker.setLatLng(latlng);
      marker = L.marker(latlng, {
        draggable: true,
        icon: L.divIcon({ className: "location-picker-marker", iconSize: [22, 22], iconAnchor: [11, 22] }),
        title: gettext("Drag to move the case")
      }).addTo(map);
      marker.on("dragend", function () { write(marker.getLatLng()); });
    }

    function write(latlng) {
      latlng = latlng.wrap();
      latitude.value = latlng.lat.toFixed(6);
      longitude.value = latlng.lng.toFixed(6);
      place(latlng);
      [latitude, longitude].forEach(function (input) {
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }

    function follow() {
      var latlng = typed();
      if (latlng) {
        place(latlng);
        map.panTo(latlng);
      } else if (marker && latitude.value.trim() === "" && longitude.value.trim() === "") {
        map.removeLayer(marker);
        marker = null;
      }
    }

    map.on("click", function (e) { write(e.latlng); });
    latitude.addEventListener("input", follow);
    longitude.addEventListener("input", follow);
    var start = typed();
    if (start) {
      place(start);
      map.setView(start, PLACED_ZOOM);
    }
  });
})();
