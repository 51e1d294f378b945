"""The OpenAPI 3.1 description of the catalogue's public API (`/api/openapi.json`).

FILTERS describes each parameter of the FilterSet (`InnovationFilter`), which owns the
query-string contract; a test holds the two together. Every filter is lenient: a value
the catalogue does not know, or a malformed number, is ignored and reported in
`notices`, never refused. So the filters are documented as strings (or lists of
strings) whose known values are named, not as enumerations that would be refused.
"""

from django.urls import reverse

from .models import SECTION_FIELDS, TERM_FIELDS, Innovation

MULTIPLE = (
    " May be repeated (`{name}=a&{name}=b`) or comma-separated (`{name}=a,b`); the values "
    "are ORed, and different parameters are ANDed. Unknown values are ignored and reported "
    "in `notices`. At most 50 values are used."
)


def multiple(name, description, examples):
    return {
        "name": name,
        "in": "query",
        "description": description + MULTIPLE.format(name=name),
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": {"type": "string"}},
        "examples": {
            str(number): {"value": value} for number, value in enumerate(examples, start=1)
        },
    }


def single(name, description, example, values=None):
    schema = {"type": "string"}
    if values:
        schema["examples"] = list(values)
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": schema,
        "example": example,
    }


LEVELS = Innovation.Level.values
SORTS = ["relevance", "newest", "added", "title"]

FILTERS = [
    single(
        "q",
        "Text to search for (PostgreSQL full-text search over the title, the short "
        'explanation, the organisation, the terms and the sections). Web-style syntax: `"open '
        'data"` for a phrase, `chatbot or drones`, `data -madrid`. Accents are ignored. When '
        "nothing matches, titles that look alike stand in and a notice says so. Longer than "
        "200 characters: ignored, with a notice.",
        "procurement",
    ),
    multiple("country", "ISO 3166-1 alpha-2 country codes, any case.", [["PT"], ["pt", "es"]]),
    multiple(
        "level",
        "Level of government: " + ", ".join(f"`{level}`" for level in LEVELS) + ".",
        [["local"], ["national", "regional"]],
    ),
    multiple("sector", "Sector slugs (see the `facets` of the list JSON).", [["health"]]),
    single(
        "year_from",
        "Launched in this year or later (a whole number). Not a number: ignored, with a notice.",
        "2015",
    ),
    single(
        "year_to",
        "Launched in this year or earlier (a whole number). Not a number: ignored, with a notice.",
        "2020",
    ),
    multiple("stage", "Stage-of-innovation slugs.", [["implementation"]]),
    multiple("recognition", "Recognition slugs.", [["award-winner"]]),
    multiple("tag", "Tag slugs.", [["open-data"], ["open-data", "chatbots"]]),
    single(
        "bbox",
        "An area, `west,south,east,north` in degrees: the cases whose point (their own "
        "location, else their country's capital) lies in it. West greater than east crosses "
        "the antimeridian. Malformed or out of range: ignored, with a notice.",
        "-10,35,5,45",
    ),
    single(
        "sort",
        "The order: `relevance` (the default when searching; only when searching), `newest` "
        "(year of launch, the default otherwise), `added` (most recently added first), "
        "`title` (A–Z). Another value: the default, with a notice.",
        "title",
        SORTS,
    ),
]
FILTER_NAMES = [parameter["name"] for parameter in FILTERS]

PAGE = single(
    "page",
    "Page number, 20 cases a page. Not a number, or out of range: the nearest page, with a notice.",
    "2",
)
FORMAT = single(
    "format",
    "`json` answers JSON and `html` the HTML page; without it, `Accept: application/json` "
    "gives JSON. Any other value is ignored, with a notice.",
    "json",
    ["json", "html"],
)
LONGITUDE = {"type": "number", "minimum": -180, "maximum": 180}
LATITUDE = {"type": "number", "minimum": -90, "maximum": 90}
BBOX = {
    "name": "bbox",
    "in": "query",
    "description": "The part of the world to draw: `west,south,east,north` in degrees (the "
    "whole world when absent). West greater than east crosses the antimeridian. Malformed, "
    "out of range, or a south that lies north of the north: 400 with the errors.",
    "style": "form",
    "explode": False,
    "schema": {
        "type": "array",
        "prefixItems": [LONGITUDE, LATITUDE, LONGITUDE, LATITUDE],
        "items": False,
        "minItems": 4,
        "maxItems": 4,
    },
    "example": [-10, 35, 5, 45],
}
ZOOM = {
    "name": "zoom",
    "in": "query",
    "description": "The map's zoom (the default zoom when absent): countries up to zoom 4, "
    "then grid cells, then single places. Out of range: 400 with the errors.",
    "schema": {"type": "integer", "minimum": 0, "maximum": 20},
    "example": 6,
}

STRINGS = {"type": "array", "items": {"type": "string"}}
NOTICES = {
    "type": "array",
    "items": {"type": "string"},
    "description": "What was ignored in the query string, in words a person can act on, in "
    "the language of the address (`/pt/...` for Portuguese).",
}
STAMP_HEADERS = {
    "Catalogue-Version": {
        "description": "The catalogue version the answer shows.",
        "schema": {"type": "string"},
    },
    "Exported-At": {
        "description": "When the answer was taken (ISO 8601, UTC).",
        "schema": {"type": "string"},
    },
}
TERM = {
    "type": "object",
    "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
    "required": ["slug", "name"],
}
OPTION = {
    "type": "object",
    "properties": {
        "value": {"type": ["string", "integer"]},
        "label": {"type": "string"},
        "count": {"type": "integer", "minimum": 0},
        "selected": {"type": "boolean"},
    },
    "required": ["value", "label", "count", "selected"],
}

SCHEMAS = {
    "Row": {
        "type": "object",
        "description": "A case as a card of the list shows it.",
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "short_explanation": {"type": "string"},
            "country": {"type": "string"},
            "level": {"type": "string"},
            **dict.fromkeys(TERM_FIELDS, STRINGS),
            "year": {"type": ["integer", "null"]},
            "latitude": {"type": "number"},
            "longitude": {"type": "number"},
            "url": {"type": "string"},
        },
        "required": ["slug", "title", "country", "level", "url"],
    },
    "List": {
        "type": "object",
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/Row"}},
            "facets": {
                "type": "object",
                "description": "Each facet's options with the number of cases that choosing "
                "it would give (every filter applied but the facet's own).",
                "additionalProperties": {"type": "array", "items": OPTION},
            },
            "notices": NOTICES,
        },
        "required": ["count", "page", "pages", "results", "facets", "notices"],
    },
    "Case": {
        "type": "object",
        "description": "A case with every section and term.",
        "properties": {
            "slug": {"type": "string"},
            "url": {"type": "string"},
            "title": {"type": "string"},
            "short_explanation": {"type": "string"},
            "sections": {
                "type": "object",
                "properties": {name: {"type": "string"} for name in SECTION_FIELDS},
                "required": list(SECTION_FIELDS),
            },
            "organisation": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "type": {"type": "string"}},
            },
            "website": {"type": "string"},
            "country": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
                "required": ["code", "name"],
            },
            "level": {"type": "string", "enum": LEVELS},
            "level_label": {"type": "string"},
            "year": {"type": ["integer", "null"]},
            **{name: {"type": "array", "items": TERM} for name in TERM_FIELDS},
            "latitude": {"type": "number", "minimum": -90, "maximum": 90},
            "longitude": {"type": "number", "minimum": -180, "maximum": 180},
            "location": {
                "type": "string",
                "enum": ["own", "capital"],
                "description": "`own`: the case's own location; `capital`: it has none, "
                "and is placed at its country's capital.",
            },
            "source": {"type": "string"},
            "source_url": {"type": "string"},
            "is_synthetic": {"type": "boolean"},
            "created": {"type": "string"},
            "updated": {"type": "string"},
        },
        "required": [
            "slug",
            "url",
            "title",
            "sections",
            "country",
            "level",
            *TERM_FIELDS,
            "latitude",
            "longitude",
            "location",
            "updated",
        ],
    },
    "Stamp": {
        "type": "object",
        "properties": {
            "catalogue_version": {"type": "integer"},
            "exported_at": {"type": "string"},
            "count": {"type": "integer", "minimum": 0},
            "notices": NOTICES,
        },
        "required": ["catalogue_version", "exported_at", "count", "notices"],
    },
    "Export": {
        "allOf": [
            {"$ref": "#/components/schemas/Stamp"},
            {
                "type": "object",
                "properties": {
                    "results": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}}
                },
                "required": ["results"],
            },
        ]
    },
    "FeatureCollection": {
        "description": "An RFC 7946 FeatureCollection of points; its foreign members are the "
        "stamp.",
        "allOf": [
            {"$ref": "#/components/schemas/Stamp"},
            {
                "type": "object",
                "properties": {
                    "type": {"const": "FeatureCollection"},
                    "features": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "type": {"const": "Feature"},
                                "id": {"type": "string"},
                                "geometry": {
                                    "type": "object",
                                    "properties": {
                                        "type": {"const": "Point"},
                                        "coordinates": {
                                            "type": "array",
                                            "prefixItems": [
                                                {"type": "number", "minimum": -180, "maximum": 180},
                                                {"type": "number", "minimum": -90, "maximum": 90},
                                            ],
                                            "minItems": 2,
                                            "maxItems": 2,
                                        },
                                    },
                                    "required": ["type", "coordinates"],
                                },
                                "properties": {"type": "object"},
                            },
                            "required": ["type", "geometry", "properties"],
                        },
                    },
                },
                "required": ["type", "features"],
            },
        ],
    },
    "MapData": {
        "type": "object",
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            "mode": {"type": "string", "enum": ["countries", "cells", "points"]},
            "cell": {"type": "number", "description": "Degrees per grid cell (`cells`)."},
            "clusters": {
                "type": "array",
                "description": "Bubbles: `[latitude, longitude, count]`, and a country's code "
                "in `countries` mode.",
                "items": {"type": "array"},
            },
            "points": {
                "type": "array",
                "description": "Single cases: `[latitude, longitude, slug]`.",
                "items": {"type": "array"},
            },
            "notices": NOTICES,
        },
        "required": ["count", "mode", "clusters", "points", "notices"],
    },
    "Errors": {
        "type": "object",
        "properties": {
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            }
        },
        "required": ["errors"],
    },
}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema):
    return {"application/json": {"schema": schema}}


def export_operation(summary, content_type, schema, description):
    return {
        "get": {
            "summary": summary,
            "description": description
            + " The file is named after the view and the day, for example "
            "`innovations-pt-health-2026-12-01.csv`. Any site may read it (CORS).",
            "tags": ["exports"],
            "parameters": FILTERS,
            "responses": {
                "200": {
                    "description": "Every case of the view, in the view's order, streamed.",
                    "headers": STAMP_HEADERS,
                    "content": {content_type: {"schema": schema}},
                }
            },
        }
    }


def document(request):
    """The OpenAPI document, with this site's address as its server."""
    list_path = reverse("innovations:list")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Innovation Catalogue API",
            "version": "1",
            "summary": "Public-sector innovation case studies: search, filter, count, map "
            "and export.",
            "description": "Every answer reads the same query string as the list page: a "
            "permalink to a view is also its API call. Read-only, no key. Portuguese answers "
            "(notices, level labels) at the same paths under `/pt/`.",
        },
        "servers": [{"url": request.build_absolute_uri("/").rstrip("/")}],
        "tags": [
            {"name": "catalogue", "description": "The list, each case and the map."},
            {"name": "exports", "description": "A whole view as a file or a feed."},
        ],
        "paths": {
            list_path: {
                "get": {
                    "summary": "The list: one page of cases, the facet counts and notices",
                    "tags": ["catalogue"],
                    "parameters": [*FILTERS, PAGE, FORMAT],
                    "responses": {
                        "200": {
                            "description": "JSON with `format=json` (or "
                            "`Accept: application/json`), else the HTML page.",
                            "content": {
                                "application/json": {"schema": ref("List")},
                                "text/html": {"schema": {"type": "string"}},
                            },
                        }
                    },
                }
            },
            f"{list_path}{{slug}}.json": {
                "get": {
                    "summary": "A case, with every section and term",
                    "tags": ["catalogue"],
                    "parameters": [
                        {
                            "name": "slug",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
                            "example": "lisbon-participatory-budget",
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The published case.",
                            "headers": STAMP_HEADERS,
                            "content": json_content(ref("Case")),
                        },
                        "404": {
                            "description": (
                                "No published case has this slug: JSON. An address that"
                                " is no slug at all is the site's page not found."
                            ),
                            "content": {
                                **json_content(
                                    {
                                        "type": "object",
                                        "properties": {"error": {"type": "string"}},
                                        "required": ["error"],
                                    }
                                ),
                                "text/html": {"schema": {"type": "string"}},
                            },
                        },
                    },
                }
            },
            reverse("innovations:map_data"): {
                "get": {
                    "summary": "The view's cases on a map, clustered for the zoom",
                    "tags": ["catalogue"],
                    # map.json reads the area strictly: a bad one is a 400.
                    "parameters": [*(p for p in FILTERS if p["name"] != "bbox"), BBOX, ZOOM],
                    "responses": {
                        "200": {
                            "description": "Bubbles and points.",
                            "content": json_content(ref("MapData")),
                        },
                        "400": {
                            "description": "`bbox` or `zoom` is not understood.",
                            "content": json_content(ref("Errors")),
                        },
                    },
                }
            },
            reverse("innovations:export", args=["csv"]): export_operation(
                "The view as CSV",
                "text/csv",
                {"type": "string"},
                "One row a case, the columns of the editors' case file (which `import_cases` "
                "reads back); terms are slugs joined with `|`.",
            ),
            reverse("innovations:export", args=["json"]): export_operation(
                "The view as JSON",
                "application/json",
                ref("Export"),
                "Every case with every section and term, with the catalogue version, the time "
                "and the notices.",
            ),
            reverse("innovations:export", args=["geojson"]): export_operation(
                "The view as GeoJSON",
                "application/geo+json",
                ref("FeatureCollection"),
                "An RFC 7946 FeatureCollection of points: each case at its own location, or "
                "at its country's capital (`location` says which).",
            ),
            reverse("innovations:feed"): {
                "get": {
                    "summary": "The newest 50 published cases of the view, as Atom",
                    "description": "Newest added first. Honours `If-None-Match` and "
                    "`If-Modified-Since` (304). Also at `export.atom`. Any other "
                    "`export.<format>` is a 400 naming the accepted formats.",
                    "tags": ["exports"],
                    "parameters": FILTERS,
                    "responses": {
                        "200": {
                            "description": "An Atom 1.0 feed.",
                            "headers": {
                                "ETag": {"schema": {"type": "string"}},
                                "Last-Modified": {"schema": {"type": "string"}},
                                **STAMP_HEADERS,
                            },
                            "content": {"application/atom+xml": {"schema": {"type": "string"}}},
                        },
                        "304": {"description": "The reader has this feed already."},
                    },
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }
