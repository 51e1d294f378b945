"""The catalogue as a map: the filtered cases, clustered by the database.

`map.json` answers for the cases whose point (own location, else the capital) lies in a
box, at a zoom level of the map:

    zoom 0–4    one bubble per country, at its capital, for the capitals in the box
    zoom 5–12   one bubble per grid cell (64 pixels wide at that zoom), at the mean
                point of its cases; a cell holding a single case is that case
    zoom 13–20  the cases themselves; cases sharing one point make a bubble; beyond
                MAX_POINTS places in the box, grid cells again

Each answer is one query whatever the number of cases (two when there are too many
single places), and its rows are bounded by the number of countries or MAX_CELLS.
"""

import math
from typing import NamedTuple

import numpy as np
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, F, Min, Q
from django.db.models.functions import Floor
from django.utils.translation import gettext_lazy as _

COUNTRY_ZOOM = 4
POINT_ZOOM = 13
MAX_POINTS = 2000
MAX_CELLS = 4096
MAX_BBOX_LENGTH = 200
POPUP_CASES = 10


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

    def q(self, lat, lng):
        """A condition on two fields (or annotations): the point they name is in the box."""
        inside = Q(**{f"{lat}__gte": self.south, f"{lat}__lte": self.north})
        if self.west <= self.east:
            return inside & Q(**{f"{lng}__gte": self.west, f"{lng}__lte": self.east})
        return inside & (Q(**{f"{lng}__gte": self.west}) | Q(**{f"{lng}__lte": self.east}))


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
        return self.cleaned_data["bbox"] or WORLD

    def clean_zoom(self):
        zoom = self.cleaned_data["zoom"]
        return settings.LEAFLET_CONFIG["DEFAULT_ZOOM"] if zoom is None else zoom

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


def inside(queryset, bbox):
    """The cases whose point lies in the box, annotated with that point."""
    return queryset.with_point().filter(bbox.q("lat", "lng"))


def cell_size(zoom, bbox):
    """Degrees per grid cell: 64 pixels at `zoom`, coarser if the box would hold too many."""
    size = 360 / 2 ** (zoom + 2)
    while (bbox.width / size + 1) * (bbox.height / size + 1) > MAX_CELLS:
        size *= 2
    return size


def _split(rows, digits):
    """Rows of (lat, lng, count, slug): a group of one is that case, a larger one a bubble."""
    clusters, points = [], []
    for lat, lng, count, slug in rows:
        if count == 1:
            points.append([round(lat, 5), round(lng, 5), slug])
        else:
            clusters.append([round(lat, digits), round(lng, digits), count])
    return {"clusters": clusters, "points": points}


def country_counts(filterset):
    """How many of the filtered cases each country has (from the catalogue's index)."""
    index = filterset.index
    return np.bincount(index.country[filterset.mask()], minlength=len(index.capitals))


def by_country(filterset, bbox):
    index = filterset.index
    counts = country_counts(filterset)
    shown = (counts > 0) & bbox.holds(index.capitals[:, 0], index.capitals[:, 1])
    codes = index.vocabularies["country"].keys
    return {
        "clusters": [
            [round(float(lat), 4), round(float(lng), 4), int(counts[n]), codes[n]]
            for n in sorted(np.flatnonzero(shown), key=codes.__getitem__)
            for lat, lng in [index.capitals[n]]
        ],
        "points": [],
    }


def by_cell(queryset, bbox, size):
    rows = (
        inside(queryset, bbox)
        .order_by()
        .values(row=Floor(F("lat") / size), col=Floor(F("lng") / size))
        .annotate(count=Count("pk"), mean_lat=Avg("lat"), mean_lng=Avg("lng"), first=Min("slug"))
        .values_list("mean_lat", "mean_lng", "count", "first")
    )
    return _split(rows, 4)


def by_point(queryset, bbox):
    """The places in the box, or None when there are more than MAX_POINTS of them."""
    rows = list(
        inside(queryset, bbox)
        .order_by()
        .values_list("lat", "lng")
        .annotate(count=Count("pk"), first=Min("slug"))[: MAX_POINTS + 1]
    )
    if len(rows) > MAX_POINTS:
        return None
    return _split(rows, 5)


def clusters(filterset, bbox, zoom):
    """map.json's body for the cases that `filterset` selects, in `bbox` at `zoom`."""
    queryset = filterset.qs
    if zoom <= COUNTRY_ZOOM:
        data = {"mode": "countries", **by_country(filterset, bbox)}
    elif zoom >= POINT_ZOOM and (places := by_point(queryset, bbox)) is not None:
        data = {"mode": "points", **places}
    else:
        size = cell_size(zoom, bbox)
        data = {"mode": "cells", "cell": size, **by_cell(queryset, bbox, size)}
    count = sum(cluster[2] for cluster in data["clusters"]) + len(data["points"])
    return {"count": count, **data}


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
