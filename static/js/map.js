// The catalogue map. At world and continent zoom it shades each country by its number of
// innovations under the page's filters (a choropleth over the site's own Natural Earth
// shapes, so no other server is asked for anything unless tiles are configured), with
// the counts as bubbles; zoomed in, map.json's grid cells and single cases take over.
// Bubbles that would overlap are merged. A bubble of a few cases opens a list of them; a
// larger one offers them in the list. The centre and zoom stay in the address (lat, lng,
// zoom), so the view is a permalink. Without JavaScript the page has the country table.
(function () {
  "use strict";
  var VIEW_KEYS = ["lat", "lng", "zoom"];
  var CELLS_ZOOM = 5; // the first zoom at which map.json answers with grid cells
  var HERE = 0.00001; // degrees around a point of map.json: its precision
  var POPUP_CASES = 20; // a bubble of up to this many cases lists them
  var POPUP_WAIT = 20000; // milliseconds a popup waits for its cases before it gives up
  var GAP = 2; // pixels kept between two bubbles
  var CLASSES = 5;
  var SHADES = ["#d9ecf2", "#a6cfe0", "#6aaac9", "#3a7fae", "#1d4f86"];
  var LAND = "#f4f1ea";
  var SEA = "#cfe2ef";

  function filterParams() {
    var params = new URLSearchParams(window.location.search);
    VIEW_KEYS.concat(["page", "countries"]).forEach(function (key) { params.delete(key); });
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

  // The part of the view's box inside the area searched (the filters' bbox), if any.
  function within(view, area) {
    var a = view.split(",").map(Number), b = (area || "").split(",").map(Number);
    if (b.length !== 4 || b.some(isNaN)) return view;
    if (a[0] > a[2] || b[0] > b[2]) return area; // across the antimeridian: the area
    var box = [Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.min(a[3], b[3])];
    if (box[0] > box[2] || box[1] > box[3]) return area;
    return bboxParam(box[0], box[1], box[2], box[3]);
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

  // The country table is the page's record of each country's count under the filters.
  function countryCounts() {
    var counts = {};
    document.querySelectorAll("#countries tbody tr[data-country]").forEach(function (row) {
      counts[row.dataset.country] = { count: Number(row.dataset.count), name: row.dataset.name };
    });
    return counts;
  }

  // Class limits from the data: quantiles of the countries' counts, without repeats.
  function classLimits(values) {
    var sorted = values.filter(function (n) { return n > 0; }).sort(function (a, b) { return a - b; });
    var limits = [];
    for (var k = 1; k <= CLASSES && sorted.length; k++) {
      var limit = sorted[Math.ceil(sorted.length * k / CLASSES) - 1];
      if (limits.indexOf(limit) < 0) limits.push(limit);
    }
    return limits; // each class runs from the previous limit + 1 to its limit
  }

  function shadeOf(count, limits) {
    if (!count) return null;
    for (var k = 0; k < limits.length; k++) if (count <= limits[k]) break;
    return SHADES[Math.round(k * (SHADES.length - 1) / Math.max(limits.length - 1, 1))];
  }

  function start(map, element) {
    var layer = L.layerGroup().addTo(map);
    var status = document.getElementById("map-status");
    var searchArea = document.getElementById("search-area");
    var pending = null;
    var loaded = null; // the box and zoom of the data drawn, to skip reloading small moves
    var lastData = null;
    var waiting = null; // data that came while a popup was open, drawn once it closes
    var countries = null; // the basemap's layer, once loaded
    var legend = null;
    var tiles = [];
    map.eachLayer(function (each) { if (each instanceof L.TileLayer) tiles.push(each); });
    element.classList.toggle("has-tiles", tiles.length > 0);

    tiles.forEach(function (tileLayer) {
      tileLayer.once("tileerror", function () {
        say(gettext("The background map could not be loaded; the map shows the country outlines."));
      });
    });

    function say(message) {
      var note = document.getElementById("map-tiles-status");
      if (note) note.textContent = message;
    }

    function writeView() {
      var params = new URLSearchParams(window.location.search);
      setViewParams(params, map.wrapLatLng(map.getCenter()), map.getZoom());
      history.replaceState(history.state, "", "?" + params.toString());
    }

    function loadBasemap() {
      window.countryShapes(element.dataset.basemapUrl)
        .then(function (shapes) {
          countries = L.geoJSON(shapes, {
            attribution: element.dataset.basemapCredit,
            style: { weight: 0.6, color: "#8a8f94", fillOpacity: 1, fillColor: LAND },
            onEachFeature: function (feature, shape) {
              shape.on("click", function (event) {
                if (feature.id && shaded()) chooseCountry(feature.id, event.latlng);
              });
            }
          });
          countries.addTo(map);
          countries.bringToBack();
          shade();
        })
        .catch(function () {
          say(gettext("The country shapes could not be loaded; the bubbles still show every innovation."));
        });
    }

    function shaded() { return map.getZoom() < CELLS_ZOOM; }

    // The choropleth: each country's fill from its count, and the legend, at world and
    // continent zoom; zoomed in, plain land under the clusters.
    function shade() {
      if (!countries) return;
      var counts = countryCounts();
      var limits = classLimits(Object.keys(counts).map(function (code) { return counts[code].count; }));
      var on = shaded();
      countries.eachLayer(function (shape) {
        var row = counts[shape.feature.id];
        var fill = on && row ? shadeOf(row.count, limits) : null;
        shape.setStyle({
          fillColor: fill || LAND,
          fillOpacity: tiles.length ? (fill ? 0.75 : 0) : 1,
          className: ""
        });
        var path = shape.getElement && shape.getElement();
        if (path) {
          path.classList.add("map-country");
          path.dataset.country = shape.feature.id || "";
          path.dataset.count = row ? row.count : 0;
          path.classList.toggle("map-country-shaded", Boolean(fill));
          if (fill) path.dataset.fill = fill; else delete path.dataset.fill;
        }
        shape.unbindTooltip();
        if (fill) {
          shape.bindTooltip(countryLabel(row.name, row.count), { sticky: true });
        }
      });
      showLegend(on && limits.length ? limits : null);
    }

    function showLegend(limits) {
      if (legend) {
        legend.remove();
        legend = null;
      }
      if (!limits) return;
      legend = L.control({ position: "bottomleft" });
      legend.onAdd = function () {
        var box = L.DomUtil.create("div", "map-legend");
        var title = L.DomUtil.create("p", "map-legend-title", box);
        title.textContent = gettext("Innovations per country");
        var list = L.DomUtil.create("ul", "", box);
        limits.forEach(function (limit, k) {
          var low = k ? limits[k - 1] + 1 : 1;
          var item = L.DomUtil.create("li", "", list);
          var swatch = L.DomUtil.create("span", "map-legend-swatch", item);
          swatch.style.background = shadeOf(limit, limits);
          swatch.setAttribute("aria-hidden", "true");
          item.dataset.low = low;
          item.dataset.high = limit;
          item.appendChild(document.createTextNode(low === limit ? String(low) : low + "–" + limit));
        });
        var none = L.DomUtil.create("li", "", list);
        var blank = L.DomUtil.create("span", "map-legend-swatch map-legend-none", none);
        blank.setAttribute("aria-hidden", "true");
        none.appendChild(document.createTextNode(gettext("None")));
        return box;
      };
      legend.addTo(map);
    }

    function load() {
      if (pending) pending.abort();
      pending = new AbortController();
      var bounds = map.getBounds().pad(0.25), zoom = map.getZoom();
      var params = filterParams();
      params.set("bbox", within(boxParam(bounds), params.get("bbox")));
      params.set("zoom", zoom);
      loaded = null;
      waiting = null;
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
          // Redrawing replaces every bubble, and would close an open popup with its own:
          // the new bubbles wait until it closes.
          if (popupOpen) {
            waiting = data;
            element.removeAttribute("aria-busy");
          } else {
            draw(data);
          }
        })
        .catch(function (error) {
          if (error.name === "AbortError") return;
          element.removeAttribute("aria-busy");
          status.textContent = gettext(
            "The map could not be loaded. The table of countries lists the same innovations."
          );
        });
    }

    // Redrawing replaces every bubble: a keyboard user's focus moves to the new bubble that
    // holds the same cases, else the nearest one to where it was, else the map itself.
    var refocusAt = null;

    function focusedGroup() {
      var active = document.activeElement;
      var pin = null;
      layer.eachLayer(function (each) { if (each.getElement() === active) pin = each; });
      return pin && pin.group;
    }

    function sameCases(a, b) {
      return a.slug ? a.slug === b.slug : a.codes.length > 0 && a.codes.join() === b.codes.join();
    }

    function refocus(was, pins) {
      var best = null, distance = Infinity;
      var at = map.latLngToLayerPoint(was.latlng);
      pins.forEach(function (pin) {
        var gap = sameCases(was, pin.group) ? -1 : at.distanceTo(map.latLngToLayerPoint(pin.getLatLng()));
        if (gap < distance) { best = pin; distance = gap; }
      });
      if (best && best.getElement()) best.getElement().focus({ preventScroll: true });
      else element.focus({ preventScroll: true });
    }

    function draw(data) {
      lastData = data;
      waiting = null;
      var was = focusedGroup() || refocusAt;
      refocusAt = null;
      if (was && !was.codes) was = { latlng: was.latlng, codes: [], slug: null };
      layer.clearLayers();
      var pins = merged(data).map(function (group) {
        var pin = marker(group, data);
        layer.addLayer(pin);
        return pin;
      });
      if (was) refocus(was, pins);
      shade();
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

    function size(count) { return count > 1 ? Math.round(28 + 10 * Math.log10(count)) : 16; }

    // What map.json drew, as groups in screen pixels: each bubble or case with what it
    // holds (countries, or a box in degrees).
    function groups(data) {
      var rows = data.clusters.map(function (row) {
        var latlng = L.latLng(row[0], row[1]);
        var box = null;
        if (!row[3]) {
          box = data.mode === "cells"
            ? cellBox(latlng, data.cell)
            : [row[1] - HERE, row[0] - HERE, row[1] + HERE, row[0] + HERE];
        }
        return { latlng: latlng, count: row[2], codes: row[3] ? [row[3]] : [], box: box, slug: null };
      });
      data.points.forEach(function (row) {
        rows.push({
          latlng: L.latLng(row[0], row[1]), count: 1, codes: [],
          box: [row[1] - HERE, row[0] - HERE, row[1] + HERE, row[0] + HERE], slug: row[2]
        });
      });
      return rows.map(function (row) {
        var at = map.latLngToLayerPoint(row.latlng);
        row.x = at.x;
        row.y = at.y;
        return row;
      });
    }

    function cellBox(latlng, cell) {
      var col = Math.floor(latlng.lng / cell), row = Math.floor(latlng.lat / cell);
      return [col * cell, row * cell, (col + 1) * cell, (row + 1) * cell];
    }

    // Whether two bubbles' squares, and the gap around them, meet.
    function overlaps(a, b) {
      var reach = (size(a.count) + size(b.count)) / 2 + GAP;
      return Math.abs(a.x - b.x) < reach && Math.abs(a.y - b.y) < reach;
    }

    function absorb(into, other) {
      var total = into.count + other.count;
      into.x = (into.x * into.count + other.x * other.count) / total;
      into.y = (into.y * into.count + other.y * other.count) / total;
      into.count = total;
      into.codes = into.codes.concat(other.codes);
      into.box = into.box && other.box
        ? [Math.min(into.box[0], other.box[0]), Math.min(into.box[1], other.box[1]),
          Math.max(into.box[2], other.box[2]), Math.max(into.box[3], other.box[3])]
        : into.box || other.box;
      into.slug = null;
      into.merged = true;
    }

    // Bubbles that would overlap at this zoom become one, at their weighted centre, until
    // none overlap. Pairs are looked for in a grid of the largest bubble's reach.
    function merged(data) {
      var items = groups(data), changed = true;
      while (changed) {
        changed = false;
        items.sort(function (a, b) { return b.count - a.count; });
        var reach = size(items.length ? items[0].count : 1) + GAP, grid = {}, kept = [];
        items.forEach(function (item) {
          var gx = Math.floor(item.x / reach), gy = Math.floor(item.y / reach), hit = null;
          for (var dx = -1; dx <= 1 && !hit; dx++) {
            for (var dy = -1; dy <= 1 && !hit; dy++) {
              (grid[(gx + dx) + ":" + (gy + dy)] || []).some(function (other) {
                if (overlaps(item, other)) hit = other;
                return hit;
              });
            }
          }
          if (hit) {
            absorb(hit, item);
            changed = true;
          } else {
            kept.push(item);
            (grid[gx + ":" + gy] = grid[gx + ":" + gy] || []).push(item);
          }
        });
        items = kept;
      }
      return items.map(function (item) {
        item.latlng = map.layerPointToLatLng([item.x, item.y]);
        return item;
      });
    }

    function countryLabel(name, count) {
      return interpolate(
        ngettext("%(name)s: %(count)s innovation", "%(name)s: %(count)s innovations", count),
        { name: name, count: count },
        true
      );
    }

    function countryName(code) {
      var row = document.querySelector('#countries tr[data-country="' + code + '"]');
      return row ? row.dataset.name : code;
    }

    function label(group) {
      if (group.slug) return group.slug.replace(/-/g, " ");
      if (group.codes.length === 1) return countryLabel(countryName(group.codes[0]), group.count);
      if (group.codes.length > 1) {
        var names = group.codes.map(countryName).sort();
        return countryLabel(
          names.length <= 3 ? names.join(", ") : interpolate(gettext("%s countries"), [names.length]),
          group.count
        );
      }
      return interpolate(ngettext("%s innovation here", "%s innovations here", group.count), [group.count]);
    }

    function icon(className, text, pixels) {
      var span = document.createElement("span");
      span.textContent = text;
      return L.divIcon({ className: className, html: span, iconSize: [pixels, pixels] });
    }

    // The filters of the page narrowed to what a bubble holds: its countries or its box.
    function groupParams(group) {
      var params = filterParams();
      if (group.codes.length) params.set("country", group.codes.join(","));
      else params.set("bbox", bboxParam(group.box[0], group.box[1], group.box[2], group.box[3]));
      return params;
    }

    function marker(group, data) {
      var text = label(group);
      var classes = group.slug
        ? "map-point"
        : "map-bubble" + (group.codes.length ? " map-bubble-country" : "");
      var pin = L.marker(group.latlng, {
        icon: icon(classes, group.slug ? "" : group.count, size(group.count)),
        title: text,
        riseOnHover: true
      });
      pin.group = group;
      pin.on("add", function () {
        var node = pin.getElement();
        node.setAttribute("aria-label", text);
        node.dataset.count = group.count;
        if (group.codes.length === 1) node.dataset.country = group.codes[0];
        if (group.codes.length > 1) node.dataset.countries = group.codes.join(",");
        if (group.slug) node.dataset.slug = group.slug;
      });
      if (group.slug) {
        return withPopup(pin, element.dataset.popupUrl.replace("__slug__", encodeURIComponent(group.slug)));
      }
      if (group.count <= POPUP_CASES) {
        return withPopup(pin, element.dataset.casesUrl + "?" + groupParams(group).toString());
      }
      pin.bindPopup(function () { return largePopup(group, data); }, { maxWidth: 320 });
      return pin;
    }

    // A bubble too big to list: its cases in the list, or a closer look.
    function largePopup(group, data) {
      var box = L.DomUtil.create("div", "map-popup");
      var title = L.DomUtil.create("p", "", box);
      title.appendChild(L.DomUtil.create("strong", "")).textContent = label(group);
      var show = L.DomUtil.create("a", "map-popup-list", L.DomUtil.create("p", "", box));
      show.href = element.dataset.listUrl + "?" + groupParams(group).toString();
      show.textContent = interpolate(
        ngettext("Show this %s innovation in the list", "Show these %s innovations in the list", group.count),
        [group.count]
      );
      if (map.getZoom() < map.getMaxZoom()) {
        var closer = L.DomUtil.create("button", "map-popup-zoom", L.DomUtil.create("p", "", box));
        closer.type = "button";
        closer.textContent = gettext("Zoom in here");
        L.DomEvent.on(closer, "click", function () {
          // The focus waits on the map, then goes to the bubble where it zoomed in.
          refocusAt = { latlng: group.latlng };
          element.focus({ preventScroll: true });
          map.closePopup();
          map.setView(group.latlng, Math.max(map.getZoom() + 2, data.mode === "countries" ? CELLS_ZOOM : 0));
        });
      }
      return box;
    }

    // The popup asks for its cases when it first opens. An answer that fails or never comes
    // is said, with a button to ask again; opening the popup again asks again too.
    function withPopup(pin, url) {
      var asked = false, failed = false;
      pin.bindPopup(gettext("Loading…"), { maxWidth: 320 });
      pin.on("popupopen", function () { if (!asked) ask(); });

      function ask() {
        asked = true;
        if (failed) pin.setPopupContent(gettext("Loading…"));
        failed = false;
        var wait = new AbortController();
        var timer = setTimeout(function () { wait.abort(); }, POPUP_WAIT);
        fetch(url, { headers: { Accept: "text/html" }, signal: wait.signal })
          .then(function (response) {
            if (!response.ok) throw new Error(response.statusText);
            return response.text();
          })
          .then(function (html) { pin.setPopupContent(html); })
          .catch(function () {
            asked = false;
            failed = true;
            pin.setPopupContent(failure());
          })
          .finally(function () { clearTimeout(timer); });
      }

      function failure() {
        var box = L.DomUtil.create("div", "map-popup");
        L.DomUtil.create("p", "", box).textContent = gettext("This could not be loaded.");
        var again = L.DomUtil.create("button", "map-popup-retry", L.DomUtil.create("p", "", box));
        again.type = "button";
        again.textContent = gettext("Try again");
        L.DomEvent.on(again, "click", function (event) {
          // The button leaves with its message. Its click stops here (the map would take a
          // click whose target has left the popup for a click on the map, which closes it),
          // and the focus stays in the popup.
          L.DomEvent.stop(event);
          var panel = again.closest(".leaflet-popup-content");
          ask();
          panel.setAttribute("tabindex", "-1");
          panel.focus({ preventScroll: true });
        });
        return box;
      }
      return pin;
    }

    // Clicking a shaded country ticks it in the filter panel and zooms in to it.
    function chooseCountry(code, latlng) {
      var zoom = Math.max(map.getZoom(), CELLS_ZOOM);
      var capital = (lastData && lastData.clusters || []).filter(function (row) { return row[3] === code; })[0];
      if (capital) latlng = L.latLng(capital[0], capital[1]);
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

    // "Search this area": the view's box joins the filters, and the page follows them.
    function searchThisArea() {
      var params = new URLSearchParams(window.location.search);
      params.delete("page");
      params.set("bbox", boxParam(map.getBounds()));
      setViewParams(params, map.wrapLatLng(map.getCenter()), map.getZoom());
      searchArea.hidden = true;
      var url = window.location.pathname + "?" + params.toString();
      if (!document.getElementById("filters")) {
        window.location = url;
        return;
      }
      history.pushState(null, "", url);
      // The live filters reload the page's parts for the address, as on Back or Forward.
      window.dispatchEvent(new PopStateEvent("popstate"));
    }

    if (searchArea) searchArea.addEventListener("click", searchThisArea);

    map.on("moveend", function () {
      writeView();
      if (searchArea) searchArea.hidden = false;
      document.dispatchEvent(new CustomEvent("map:moved", {
        detail: { lat: map.getCenter().lat, lng: map.getCenter().lng, zoom: map.getZoom() }
      }));
      // Small moves stay inside the data drawn; a popup panning into view keeps its bubble.
      if (!popupOpen) reloadIfOutside();
    });
    var popupOpen = false;
    // A bubble opened from the keyboard hands the focus to its popup; Escape or closing it
    // gives the focus back to the bubble.
    map.on("popupopen", function (event) {
      popupOpen = true;
      var source = event.popup._source, content = event.popup.getElement();
      if (!source || !content || document.activeElement !== source.getElement()) return;
      var panel = content.querySelector(".leaflet-popup-content");
      panel.setAttribute("tabindex", "-1");
      panel.focus({ preventScroll: true });
      L.DomEvent.on(content, "keydown", function (key) {
        if (key.key !== "Escape") return;
        L.DomEvent.stop(key);
        map.closePopup();
      });
    });
    map.on("popupclose", function (event) {
      popupOpen = false;
      var source = event.popup._source, content = event.popup.getElement();
      var active = document.activeElement;
      var lost = active === document.body || !document.body.contains(active) || (content && content.contains(active));
      if (lost && source && source.getElement() && refocusAt === null) {
        source.getElement().focus({ preventScroll: true });
      }
      // The map catches up with what came or moved while the popup was open, unless another
      // popup opened in its place (a click on another bubble closes this one first).
      Promise.resolve().then(function () {
        if (popupOpen) return;
        if (waiting) draw(waiting);
        reloadIfOutside();
      });
    });

    function reloadIfOutside() {
      if (!loaded || loaded.zoom !== map.getZoom() || !loaded.bounds.contains(map.getBounds())) {
        load();
      }
    }
    // The filters changed (or the person went back): follow the address.
    document.addEventListener("filters:loaded", function () {
      waiting = null;
      if (popupOpen) map.closePopup(); // its cases were the old filters'
      var view = viewFromAddress();
      if (view && (!view.centre.equals(map.getCenter(), 1e-4) || view.zoom !== map.getZoom())) {
        map.setView(view.centre, view.zoom);
      } else {
        writeView();
        load();
      }
    });
    loadBasemap();
    load();
  }

  window.addEventListener("map:init", function (event) {
    var map = event.detail.map;
    if (map.getContainer().id === "catalogue-map") start(map, map.getContainer());
  });
})();
