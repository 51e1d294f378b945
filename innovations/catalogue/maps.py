"""The catalogue as a map: the filtered cases, clustered from the catalogue index.

`map.json` answers for the cases whose point (own location, else the capital) lies in a
box (the list's `bbox` filter), at a zoom level of the map:

    zoom 0–4    one bubble per country with cases in the box, at its capital (at the
                mean point of those cases when the capital lies outside the box)
    zoom 5–12   one bubble per grid cell (64 pixels wide at that zoom), at the mean
                point of its cases; a cell holding a single case is that case
    zoom 13–20  the cases themselves; cases sharing one point make a bubble; beyond
                MAX_POINTS places in the box, grid cells again

The index holds every case's point, so the grouping is NumPy's; the database is asked
only for the slugs of the single cases drawn. Each answer's rows are bounded by the
number of countries, MAX_CELLS or MAX_POINTS.
"""

import functools
import json
import math
from typing import NamedTuple

import numpy as np
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ..models import Innovation
from . import rows
from .index import among

COUNTRY_ZOOM = 4
POINT_ZOOM = 13
MAX_POINTS = 2000
MAX_CELLS = 4096
MAX_BBOX_LENGTH = 200
POPUP_CASES = 20


class BBox(NamedTuple):
    """A box in degrees; west > east means it crosses the antimeridian."""

    west: float
    south: float
    east: float
    north: float

    @property
    def width(self):
        return self.east - self.west if self.west <= self.east else self.east - self.west + 360

    @property
    def height(self):
        return self.north - self.south

    def holds(self, lat, lng):
        """Which of the points (arrays of latitudes and longitudes) lie in the box."""
        inside = (lat >= self.south) & (lat <= self.north)
        if self.west <= self.east:
            return inside & (lng >= self.west) & (lng <= self.east)
        return inside & ((lng >= self.west) | (lng <= self.east))


WORLD = BBox(-180.0, -90.0, 180.0, 90.0)


class BBoxField(forms.Field):
    """`west,south,east,north` in degrees."""

    default_error_messages = {
        "invalid": _("Give bbox as four numbers separated by commas: west,south,east,north."),
        "latitude": _("The latitudes in bbox must lie between -90 and 90."),
        "longitude": _("The longitudes in bbox must lie between -180 and 180."),
        "order": _("The south of bbox must not lie north of its north."),
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        parts = str(value).split(",")
        if len(value) > MAX_BBOX_LENGTH or len(parts) != 4:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            numbers = [float(part) for part in parts]
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if not all(math.isfinite(number) for number in numbers):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return BBox(*numbers)

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if not (-90 <= value.south <= 90 and -90 <= value.north <= 90):
            raise ValidationError(self.error_messages["latitude"], code="latitude")
        if not (-180 <= value.west <= 180 and -180 <= value.east <= 180):
            raise ValidationError(self.error_messages["longitude"], code="longitude")
        if value.south > value.north:
            raise ValidationError(self.error_messages["order"], code="order")


class MapQuery(forms.Form):
    """The part of map.json's query string that is about the map; the rest are filters."""

    bbox = BBoxField(required=False)
    zoom = forms.IntegerField(required=False, min_value=0, max_value=20)

    def clean_bbox(self):
        self.refuse_empty("bbox")
        return self.cleaned_data["bbox"] or WORLD

    def clean_zoom(self):
        self.refuse_empty("zoom")
        zoom = self.cleaned_data["zoom"]
        return settings.LEAFLET_CONFIG["DEFAULT_ZOOM"] if zoom is None else zoom

    def refuse_empty(self, name):
        """A parameter may be left out (for its default) but not given empty."""
        if name in self.data and not self.data[name].strip():
            field = self.fields[name]
            raise ValidationError(field.error_messages["invalid"], code="invalid")

    def errors_by_field(self):
        return {
            name: [error["message"] for error in errors]
            for name, errors in self.errors.get_json_data().items()
        }


class MapView(forms.Form):
    """The map page's centre and zoom (`lat`, `lng`, `zoom`), which the filters ignore."""

    lat = forms.FloatField(min_value=-90, max_value=90)
    lng = forms.FloatField(min_value=-180, max_value=180)
    zoom = forms.IntegerField(
        min_value=settings.LEAFLET_CONFIG["MIN_ZOOM"], max_value=settings.LEAFLET_CONFIG["MAX_ZOOM"]
    )


def initial_view(params):
    """django-leaflet settings for the view the address asks for; none if it asks for none."""
    form = MapView(params)
    if not form.is_valid():
        return {}
    data = form.cleaned_data
    return {"DEFAULT_CENTER": (data["lat"], data["lng"]), "DEFAULT_ZOOM": data["zoom"]}


def cell_size(zoom, bbox):
    """Degrees per grid cell: 64 pixels at `zoom`, coarser if the box would hold too many."""
    size = 360 / 2 ** (zoom + 2)
    while (bbox.width / size + 1) * (bbox.height / size + 1) > MAX_CELLS:
        size *= 2
    return size


def country_counts(filterset):
    """How many of the filtered cases each country has (from the catalogue's index)."""
    index = filterset.index
    return np.bincount(index.country[filterset.mask()], minlength=len(index.capitals))


def by_country(filterset, bbox):
    """A bubble for each country with cases in the box: at its capital, or at the mean
    point of those cases when the capital lies outside the box."""
    index = filterset.index
    counts = country_counts(filterset)
    places = index.capitals.copy()
    away = (counts > 0) & ~bbox.holds(places[:, 0], places[:, 1])
    if away.any():
        places[away] = mean_points(index, filterset.mask(), bbox, counts)[away]
    codes = index.vocabularies["country"].keys
    return {
        "clusters": [
            [round(float(lat), 4), round(float(lng), 4), int(counts[n]), codes[n]]
            for n in sorted(np.flatnonzero(counts), key=codes.__getitem__)
            for lat, lng in [places[n]]
        ],
        "points": [],
    }


def mean_points(index, mask, bbox, counts):
    """Each country's mean point (latitude, longitude) over the masked cases; a box
    across the antimeridian is averaged east of its west edge, then wrapped back."""
    country, latitude, longitude = (
        index.country[mask],
        index.latitude[mask],
        index.longitude[mask],
    )
    if bbox.west > bbox.east:
        longitude = np.where(longitude < bbox.west, longitude + 360, longitude)
    size, divisor = len(counts), np.maximum(counts, 1)
    mean_lat = np.bincount(country, latitude, minlength=size) / divisor
    mean_lng = np.bincount(country, longitude, minlength=size) / divisor
    return np.stack([mean_lat, (mean_lng + 180) % 360 - 180], axis=1)


def groups(keys, latitude, longitude, ids, digits):
    """Cases grouped by `keys`: a group of one is that case (a point, with its slug), a
    larger one a bubble at the mean point of its cases."""
    _keys, first, inverse, counts = np.unique(
        keys, return_index=True, return_inverse=True, return_counts=True
    )
    mean_lat = np.bincount(inverse, latitude) / counts
    mean_lng = np.bincount(inverse, longitude) / counts
    single = counts == 1
    slugs = {}
    if single.any():
        slugs = dict(
            Innovation.objects.filter(pk__in=among(ids[first[single]])).values_list("pk", "slug")
        )
    points = [
        [round(float(lat), 5), round(float(lng), 5), slugs[pk]]
        for lat, lng, pk in zip(
            latitude[first[single]],
            longitude[first[single]],
            ids[first[single]].tolist(),
            strict=True,
        )
    ]
    clusters = [
        [round(float(lat), digits), round(float(lng), digits), int(count)]
        for lat, lng, count in zip(
            mean_lat[~single], mean_lng[~single], counts[~single], strict=True
        )
    ]
    return {"clusters": clusters, "points": points}


def by_cell(index, mask, size):
    latitude, longitude = index.latitude[mask], index.longitude[mask]
    # Each cell's row and column, made positive, in one number.
    offset = math.ceil(180 / size) + 1
    row = np.floor(latitude / size).astype(np.int64) + offset
    column = np.floor(longitude / size).astype(np.int64) + offset
    return groups(row * (2 * offset + 1) + column, latitude, longitude, index.ids[mask], 4)


def by_point(index, mask):
    """The places in the box, or None when there are more than MAX_POINTS of them."""
    latitude, longitude = index.latitude[mask], index.longitude[mask]
    places = np.unique(np.stack([latitude, longitude]), axis=1, return_inverse=True)[1]
    if len(places) and places.max() >= MAX_POINTS:
        return None
    return groups(places.reshape(-1), latitude, longitude, index.ids[mask], 5)


def clusters(filterset, bbox, zoom):
    """map.json's body for the cases that `filterset` selects in `bbox`, at `zoom`."""
    if zoom <= COUNTRY_ZOOM:
        data = {"mode": "countries", **by_country(filterset, bbox)}
    else:
        mask = filterset.mask()
        if zoom >= POINT_ZOOM and (places := by_point(filterset.index, mask)) is not None:
            data = {"mode": "points", **places}
        else:
            size = cell_size(zoom, bbox)
            data = {"mode": "cells", "cell": size, **by_cell(filterset.index, mask, size)}
    count = sum(cluster[2] for cluster in data["clusters"]) + len(data["points"])
    return {"count": count, **data}


def cases_here(filterset):
    """The first POPUP_CASES of the filtered cases by title, and how many there are: what
    a bubble holds."""
    index, mask = filterset.index, filterset.mask()
    shown = index.ids[index.ordered(mask, "title")[:POPUP_CASES]]
    return rows.in_order(index, shown), int(mask.sum())


def country_table(filterset):
    """Each country with cases and how many, by name: the world map's bubbles as a table."""
    countries = filterset.index.vocabularies["country"]
    return [
        {"code": code, "name": name, "count": int(count)}
        for code, name, count in zip(
            countries.keys, countries.labels, country_counts(filterset), strict=True
        )
        if count
    ]


# The home page's small map: the site's own country shapes (static/geo/countries.json,
# Natural Earth in TopoJSON, as the map page draws them) as one outline in an
# equirectangular drawing, with a dot at each country's capital sized by its count.
SMALL_MAP_SCALE = 1.5  # drawing units per degree
SMALL_MAP_NORTH, SMALL_MAP_SOUTH = 84, -58  # Antarctica and the far north left out
SMALL_MAP_WIDTH = round(360 * SMALL_MAP_SCALE)
SMALL_MAP_HEIGHT = round((SMALL_MAP_NORTH - SMALL_MAP_SOUTH) * SMALL_MAP_SCALE)
SMALL_MAP_STEP = 4  # drawing units between the points kept: the outline is a sketch
SHAPES = settings.BASE_DIR / "static" / "geo" / "countries.json"


def small_map_point(lat, lng):
    x = (lng + 180) * SMALL_MAP_SCALE
    y = (SMALL_MAP_NORTH - lat) * SMALL_MAP_SCALE
    return x, y


@functools.cache
def world_outline():
    """The countries' outlines as one SVG path, read once per process."""
    topology = json.loads(SHAPES.read_text())
    (kx, ky), (dx, dy) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        points = np.cumsum(np.array(arc, dtype=float), axis=0) * (kx, ky) + (dx, dy)
        arcs.append([small_map_point(lat, lng) for lng, lat in points])
    rings = []
    for shape in topology["objects"]["countries"]["geometries"]:
        if shape.get("id") == "AQ" or shape["type"] not in ("Polygon", "MultiPolygon"):
            continue
        polygons = shape["arcs"] if shape["type"] == "MultiPolygon" else [shape["arcs"]]
        for polygon in polygons:
            for ring in polygon:
                points = []
                for n in ring:
                    points += arcs[n] if n >= 0 else arcs[~n][::-1]
                rings.append(outline_ring(points))
    return "".join(ring for ring in rings if ring)


def outline_ring(points, step=SMALL_MAP_STEP):
    """A ring as `M x y x y …Z` in whole drawing units, keeping a point only `step` units
    or more from the last one kept, and starting again where it crosses the antimeridian;
    none for a ring smaller than that."""
    kept = [points[0]]
    for x, y in points[1:]:
        if abs(x - kept[-1][0]) + abs(y - kept[-1][1]) >= step:
            kept.append((x, y))
    if len(kept) < 4:
        return ""
    path = []
    for n, (x, y) in enumerate(kept):
        across = n and abs(x - kept[n - 1][0]) > SMALL_MAP_WIDTH / 2
        path.append(f"{'M' if not n or across else ''}{round(x)} {round(y)}")
    return " ".join(path).replace(" M", "M") + "Z"


def small_map(filterset):
    """The dots of the home page's map: each country with cases, at its capital, with an
    area that grows with its count; biggest first, so that small dots stay on top."""
    index = filterset.index
    counts = country_counts(filterset)
    countries = index.vocabularies["country"]
    most = int(counts.max()) if len(counts) else 0
    dots = []
    for n in np.flatnonzero(counts):
        lat, lng = index.capitals[n]
        x, y = small_map_point(lat, lng)
        count = int(counts[n])
        radius = 3 + 9 * math.sqrt(count / most)
        dots.append(
            {
                "code": countries.keys[n],
                "name": countries.labels[n],
                "count": count,
                "x": round(x, 1),
                "y": round(y, 1),
                "r": round(radius, 1),
            }
        )
    return sorted(dots, key=lambda dot: (-dot["count"], dot["name"]))
