// The site's own country shapes (static/geo/countries.json, Natural Earth as TopoJSON),
// for every map that draws them: `countryShapes(url)` gives a promise of GeoJSON
// features, each with its ISO code as `id`.
(function () {
  "use strict";

  // TopoJSON (static/geo/countries.json) to GeoJSON features, for Leaflet.
  function features(topology) {
    var scale = topology.transform.scale, move = topology.transform.translate;
    var arcs = topology.arcs.map(function (arc) {
      var x = 0, y = 0;
      return arc.map(function (delta) {
        x += delta[0];
        y += delta[1];
        return [x * scale[0] + move[0], y * scale[1] + move[1]];
      });
    });
    // A ring's points, its longitudes made continuous: a shape that crosses the
    // antimeridian (Russia, Fiji) runs on past 180 rather than across the whole map.
    function ring(indexes) {
      var points = [];
      indexes.forEach(function (index) {
        var arc = index < 0 ? arcs[~index].slice().reverse() : arcs[index];
        points = points.concat(points.length ? arc.slice(1) : arc);
      });
      var shift = 0, previous = null;
      return points.map(function (point) {
        var lng = point[0] + shift;
        if (previous !== null && lng - previous > 180) shift -= 360;
        else if (previous !== null && lng - previous < -180) shift += 360;
        previous = point[0] + shift;
        return [previous, point[1]];
      });
    }
    function polygon(rings) { return rings.map(ring); }
    return topology.objects.countries.geometries.map(function (shape) {
      return {
        type: "Feature",
        id: shape.id,
        properties: {},
        geometry: {
          type: shape.type,
          coordinates: shape.type === "Polygon" ? polygon(shape.arcs) : shape.arcs.map(polygon)
        }
      };
    });
  }

  window.countryShapes = function (url) {
    return fetch(url)
      .then(function (response) {
        if (!response.ok) throw new Error(response.statusText);
        return response.json();
      })
      .then(features);
  };
})();
