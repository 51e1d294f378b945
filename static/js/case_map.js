// A case's page: its place on a small map. The text beside the map says the same.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  window.addEventListener("map:init", function (event) {
    var map = event.detail.map, element = map.getContainer();
    if (element.id !== "case-map") return;
    var place = L.latLng(Number(element.dataset.lat), Number(element.dataset.lng));
    map.setView(place, Number(element.dataset.zoom));
    L.marker(place, {
      icon: L.divIcon({ className: "map-point", iconSize: [16, 16] }),
      keyboard: false
    }).addTo(map);
    // Without tiles, the site's own country shapes are the background.
    var tiles = false;
    map.eachLayer(function (layer) { if (layer instanceof L.TileLayer) tiles = true; });
    if (!tiles && element.dataset.basemapUrl) {
      window.countryShapes(element.dataset.basemapUrl).then(function (shapes) {
        L.geoJSON(shapes, {
          attribution: element.dataset.basemapCredit,
          interactive: false,
          style: { weight: 0.6, color: "#8a8f94", fillOpacity: 1, fillColor: "#f2efe9" }
        }).addTo(map).bringToBack();
      }).catch(function () {});
    }
  });
})();
