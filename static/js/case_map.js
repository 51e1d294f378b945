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
  });
})();
