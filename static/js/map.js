// The catalogue map: draws map.json for the page's filters and the part of the world in
// view, and keeps the map's centre and zoom in the address (lat, lng, zoom) so that the
// view is a permalink. Without it the page still has the table of countries.
(function () {
  "use strict";
  var VIEW_KEYS = ["lat", "lng", "zoom"];
  var CELLS_ZOOM = 5; // the first zoom at which map.json answers with grid cells
  var HERE = 0.00001; // degrees around a point of map.json: its precision

  function filterParams() {
    var params = new URLSearchParams(window.location.search);
    VIEW_KEYS.concat(["page"]).forEach(function (key) { params.delete(key); });
    return params;
  }

  function bboxParam(west, south, east, north) {
    return [
      Math.max(-180, west), Math.max(-90, south), Math.min(180, east), Math.min(90, north)
    ].map(function (n) { return n.toFixed(6); }).join(",");
  }

  // The box around the view, wrapped to -180..180; west > east crosses the antimeridian.
  function boxParam(bounds) {
    var west = bounds.getWest(), east = bounds.getEast();
    if (east - west >= 360) {
      west = -180;
      east = 180;
    } else {
      west = L.Util.wrapNum(west, [-180, 180], true);
      east = L.Util.wrapNum(east, [-180, 180], true);
    }
    return bboxParam(west, bounds.getSouth(), east, bounds.getNorth());
  }

  function viewFromAddress() {
    var params = new URLSearchParams(window.location.search);
    var lat = parseFloat(params.get("lat")), lng = parseFloat(params.get("lng"));
    var zoom = parseInt(params.get("zoom"), 10);
    if (!isFinite(lat) || !isFinite(lng) || !isFinite(zoom)) return null;
    return { centre: L.latLng(lat, lng), zoom: zoom };
  }

  function setViewParams(params, centre, zoom) {
    params.set("lat", centre.lat.toFixed(4));
    params.set("lng", centre.lng.toFixed(4));
    params.set("zoom", zoom);
  }

  function countryName(code) {
    var link = document.querySelector('#countries tr[data-country="' + code + '"] a');
    return link ? link.textContent : code;
  }

  function start(map, element) {
    var layer = L.layerGroup().addTo(map);
    var status = document.getElementById("map-status");
    var pending = null;
    var loaded = null; // the box and zoom of the data drawn, to skip reloading small moves

    function writeView() {
      var params = new URLSearchParams(window.location.search);
      setViewParams(params, map.wrapLatLng(map.getCenter()), map.getZoom());
      history.replaceState(history.state, "", "?" + params.toString());
    }

    function load() {
      if (pending) pending.abort();
      pending = new AbortController();
      var bounds = map.getBounds().pad(0.25), zoom = map.getZoom();
      var params = filterParams();
      params.set("bbox", boxParam(bounds));
      params.set("zoom", zoom);
      loaded = null;
      element.setAttribute("aria-busy", "true");
      fetch(element.dataset.url + "?" + params.toString(), {
        signal: pending.signal, headers: { Accept: "application/json" }
      })
        .then(function (response) {
          if (!response.ok) throw new Error(response.statusText);
          return response.json();
        })
        .then(function (data) {
          loaded = { bounds: bounds, zoom: zoom };
          draw(data);
        })
        .catch(function (error) {
          if (error.name === "AbortError") return;
          element.removeAttribute("aria-busy");
          status.textContent = gettext(
            "The map could not be loaded. The table of countries lists the same innovations."
          );
        });
    }

    function draw(data) {
      layer.clearLayers();
      data.clusters.forEach(function (row) { layer.addLayer(bubble(row, data)); });
      data.points.forEach(function (row) { layer.addLayer(point(row)); });
      element.removeAttribute("aria-busy");
      var total = Number(document.getElementById("result-count").dataset.count);
      status.textContent = data.count === total
        ? interpolate(ngettext("%s innovation on the map.", "%s innovations on the map.", total), [total])
        : interpolate(
          ngettext(
            "%(count)s of %(total)s innovation on this part of the map.",
            "%(count)s of %(total)s innovations on this part of the map.",
            total
          ),
          { count: data.count, total: total },
          true
        );
    }

    function icon(className, text, size) {
      var label = document.createElement("span");
      label.textContent = text;
      return L.divIcon({ className: className, html: label, iconSize: [size, size] });
    }

    function named(marker, label, data) {
      marker.on("add", function () {
        var node = marker.getElement();
        node.setAttribute("aria-label", label);
        Object.keys(data).forEach(function (key) { node.dataset[key] = data[key]; });
      });
      return marker;
    }

    // A click, or Enter or Space on the focused marker (Leaflet gives markers role=button).
    function onActivate(marker, action) {
      marker.on("click", action);
      marker.on("keypress", function (event) {
        var key = event.originalEvent.key;
        if (key === "Enter" || key === " ") {
          event.originalEvent.preventDefault();
          action();
        }
      });
    }

    function withPopup(marker, url) {
      marker.bindPopup(gettext("Loading…"), { maxWidth: 320 });
      marker.once("popupopen", function () {
        fetch(url, { headers: { Accept: "text/html" } })
          .then(function (response) {
            if (!response.ok) throw new Error(response.statusText);
            return response.text();
          })
          .then(function (html) { marker.setPopupContent(html); })
          .catch(function () { marker.setPopupContent(gettext("This could not be loaded.")); });
      });
      return marker;
    }

    // A bubble: a country's (row has its code), a grid cell's, or several cases at one place.
    function bubble(row, data) {
      var latlng = L.latLng(row[0], row[1]), count = row[2], code = row[3];
      var size = Math.round(28 + 10 * Math.log10(count));
      var label = code
        ? interpolate(
          ngettext("%(name)s: %(count)s innovation", "%(name)s: %(count)s innovations", count),
          { name: countryName(code), count: count },
          true
        )
        : interpolate(ngettext("%s innovation here", "%s innovations here", count), [count]);
      var marker = L.marker(latlng, {
        icon: icon("map-bubble" + (code ? " map-bubble-country" : ""), count, size),
        title: label,
        riseOnHover: true
      });
      named(marker, label, code ? { count: count, country: code } : { count: count });
      if (code) {
        onActivate(marker, function () { chooseCountry(code, latlng); });
      } else if (data.mode === "cells" && map.getZoom() < map.getMaxZoom()) {
        onActivate(marker, function () {
          map.setView(latlng, Math.min(map.getZoom() + 2, map.getMaxZoom()));
        });
      } else {
        var params = filterParams();
        params.set("bbox", data.mode === "cells"
          ? bboxParam(
            Math.floor(latlng.lng / data.cell) * data.cell,
            Math.floor(latlng.lat / data.cell) * data.cell,
            (Math.floor(latlng.lng / data.cell) + 1) * data.cell,
            (Math.floor(latlng.lat / data.cell) + 1) * data.cell
          )
          : bboxParam(latlng.lng - HERE, latlng.lat - HERE, latlng.lng + HERE, latlng.lat + HERE));
        withPopup(marker, element.dataset.casesUrl + "?" + params.toString());
      }
      return marker;
    }

    function point(row) {
      var slug = row[2], label = slug.replace(/-/g, " ");
      var marker = L.marker([row[0], row[1]], {
        icon: icon("map-point", "", 16), title: label, riseOnHover: true
      });
      named(marker, label, { slug: slug });
      return withPopup(marker, element.dataset.popupUrl.replace("__slug__", encodeURIComponent(slug)));
    }

    // Clicking a country's bubble ticks the country in the filter panel and zooms in.
    function chooseCountry(code, latlng) {
      var zoom = Math.max(map.getZoom(), CELLS_ZOOM);
      var box = document.getElementById("country-" + code.toLowerCase());
      if (!box || !box.form) {
        var params = new URLSearchParams(window.location.search);
        params.append("country", code);
        setViewParams(params, latlng, zoom);
        window.location.search = params.toString();
        return;
      }
      map.setView(latlng, zoom);
      if (!box.checked) {
        box.checked = true;
        box.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }

    map.on("moveend", function () {
      writeView();
      // Small moves (such as a popup panning into view) stay inside the data drawn.
      if (!loaded || loaded.zoom !== map.getZoom() || !loaded.bounds.contains(map.getBounds())) {
        load();
      }
    });
    // The filters changed (or the person went back): follow the address.
    document.addEventListener("filters:loaded", function () {
      var view = viewFromAddress();
      if (view && (!view.centre.equals(map.getCenter(), 1e-4) || view.zoom !== map.getZoom())) {
        map.setView(view.centre, view.zoom);
      } else {
        writeView();
        load();
      }
    });
    load();
  }

  window.addEventListener("map:init", function (event) {
    var map = event.detail.map;
    if (map.getContainer().id === "catalogue-map") start(map, map.getContainer());
  });
})();
