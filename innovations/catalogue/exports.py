"""The catalogue as open data: any filtered view as CSV, JSON or GeoJSON, and each case.

The FilterSet says which published cases a view holds and in what order (its
`ordered_ids`); the rows are then read from PostgreSQL by id, CHUNK cases at a time,
and written out as they come, so that an export of the whole catalogue never sits in
memory. Each case's terms are read from the index, a chunk at a time: their names and
order are the index's vocabularies', as on the list. A CSV chunk is written by
PostgreSQL itself (COPY), cell for cell as the editors' export writes it in Python.

Every export is stamped with the catalogue version it was taken from and the time it
was taken: in the `Catalogue-Version` and `Exported-At` headers, and in the file itself
where the format has room for it (JSON and GeoJSON; a CSV file stays exactly what
`import_cases` reads).
"""

import functools
import json
from types import SimpleNamespace

from django.db import connection
from django.http import JsonResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from .. import csvfile
from ..models import SECTION_FIELDS, TERM_FIELDS, Innovation
from .freshness import current_index
from .index import among, array_text
from .search import fetch

CHUNK = 2000  # cases read from the database at a time

# Format -> content type. The feed (Atom) has a view of its own.
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "geojson": "application/geo+json",
}
FEED_FORMAT = "atom"
ACCEPTED = (*FORMATS, FEED_FORMAT)

# What a row read for export holds: the case's own columns and its country's.
CASE_COLUMNS = [field.attname for field in Innovation._meta.concrete_fields]
COUNTRY_COLUMNS = ["name", "capital", "latitude", "longitude"]


class Terms(list):
    """A case's terms of one vocabulary, in the vocabulary's order; `.all()` as on a model."""

    def all(self):
        return self


class CaseRow(SimpleNamespace):
    """A case as read for export: its columns by name, as on an Innovation."""


def chunks(filterset, names):
    """The view's published cases, in its order, CHUNK at a time: for each chunk, the
    cases' `names` (as `values_list()` names them) as the driver gives them, and where
    the cases sit in the index, to read their terms from it. One query a chunk; the ids
    are sent as one array. A case unpublished since the index was read drops out."""
    index, ids = filterset.index, filterset.ordered_ids
    rows_of = Innovation.objects.published().order_by().values_list("pk", *names)
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK].tolist()
        by_id = {row[0]: row[1:] for row in fetch(rows_of.filter(pk__in=among(part)))}
        kept = [pk for pk in part if pk in by_id]
        yield [by_id[pk] for pk in kept], index.positions(kept)


def case_rows(filterset):
    """The view's cases, each shaped like an Innovation with its country (`country`,
    `country_id`), its terms (`terms`, and each term field's `.all()`) and where it sits
    on a map (`point`)."""
    index = filterset.index
    names = [*CASE_COLUMNS, *(f"country__{name}" for name in COUNTRY_COLUMNS)]
    width = len(CASE_COLUMNS)
    countries = {}
    for rows, columns in chunks(filterset, names):
        terms = [
            index.term_runs(name, columns, index.vocabularies[name].terms) for name in TERM_FIELDS
        ]
        for row, *chosen in zip(rows, *terms, strict=True):
            case = CaseRow(**dict(zip(CASE_COLUMNS, row[:width], strict=True)))
            if case.country_id not in countries:
                countries[case.country_id] = SimpleNamespace(
                    code=case.country_id,
                    **dict(zip(COUNTRY_COLUMNS, row[width:], strict=True)),
                )
            case.country = countries[case.country_id]
            case.terms = {}
            for name, its in zip(TERM_FIELDS, chosen, strict=True):
                case.terms[name] = Terms(its)
                setattr(case, name, case.terms[name])
            yield placed(case)


def placed(case):
    """Give a row the point where it sits on a map, as an Innovation has it."""
    if has_own_location(case):
        case.point = (case.latitude, case.longitude)
    else:
        case.point = (case.country.latitude, case.country.longitude)
    return case


def has_own_location(case):
    return case.latitude is not None and case.longitude is not None


def level_label(level):
    try:
        return str(Innovation.Level(level).label)
    except ValueError:
        return level


def case_json(case, url):
    """A case with every section and term, as the API gives it. `case` is an Innovation
    with its `terms` from the index, or a row from `case_rows`; `url` its page's address."""
    latitude, longitude = case.point
    return {
        "slug": case.slug,
        "url": url,
        "title": case.title,
        "short_explanation": case.short_explanation,
        "sections": {name: getattr(case, name) for name in SECTION_FIELDS},
        "organisation": {"name": case.organisation_name, "type": case.organisation_type},
        "website": case.website,
        "country": {"code": case.country_id, "name": case.country.name},
        "level": case.level,
        "level_label": level_label(case.level),
        "year": case.year,
        **{
            name: [{"slug": term.slug, "name": term.name} for term in case.terms[name]]
            for name in TERM_FIELDS
        },
        "latitude": latitude,
        "longitude": longitude,
        "location": "own" if has_own_location(case) else "capital",
        "source": case.source,
        "source_url": case.source_url,
        "is_synthetic": case.is_synthetic,
        "created": case.created.isoformat(),
        "updated": case.updated.isoformat(),
    }


def feature(case, url):
    """A case as an RFC 7946 Feature: a point, and flat properties a GIS reads as columns."""
    latitude, longitude = case.point
    return {
        "type": "Feature",
        "id": case.slug,
        "geometry": {"type": "Point", "coordinates": [longitude, latitude]},
        "properties": {
            "slug": case.slug,
            "title": case.title,
            "url": url,
            "short_explanation": case.short_explanation,
            "organisation_name": case.organisation_name,
            "country": case.country_id,
            "country_name": case.country.name,
            "level": case.level,
            "year": case.year,
            **{name: [term.slug for term in case.terms[name]] for name in TERM_FIELDS},
            "location": "own" if has_own_location(case) else "capital",
            "updated": case.updated.isoformat(),
        },
    }


def dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def csv_chunks(filterset):
    """The case file (`innovations.csvfile`): its header, then the view's cases CHUNK at
    a time, each chunk written by PostgreSQL (COPY … TO STDOUT) as the editors' export
    writes it (`csvfile.cell_sql`). The ids and the order are the index's, and so are
    each case's terms, slugs joined, sent with the ids as arrays. A case unpublished
    since the index was read drops out."""
    yield csvfile.header()
    index, ids = filterset.index, filterset.ordered_ids
    statement, params = csv_copy()
    with connection.cursor() as cursor:
        for start in range(0, len(ids), CHUNK):
            part = ids[start : start + CHUNK]
            columns = index.positions(part)
            joined = [
                [
                    csvfile.SEPARATOR.join(its)
                    for its in index.term_runs(name, columns, index.vocabularies[name].keys)
                ]
                for name in CSV_TERMS
            ]
            chosen = [array_text(part), *map(array_text, joined)]
            # Read whole before it is sent: a visitor who leaves mid-file leaves no
            # COPY half read on the connection.
            with cursor.cursor.copy(statement, [*csvfile.MARKS, *chosen, *params]) as copy:
                yield b"".join(copy)


CSV_TERMS = [name for name in csvfile.COLUMNS if name in TERM_FIELDS]


@functools.cache
def csv_copy():
    """The COPY statement that writes the chosen cases' rows, and its own parameters
    (after the marks' and the chosen cases' arrays: their ids, then their joined slugs
    of each of CSV_TERMS)."""
    fields = {name: Innovation._meta.get_field(name) for name in csvfile.COLUMNS}
    cells = [
        csvfile.cell_sql(field, f"chosen.{name}" if name in CSV_TERMS else f"case_.{field.column}")
        for name, field in fields.items()
    ]
    own = [field.column for name, field in fields.items() if name not in CSV_TERMS]
    key = Innovation._meta.pk.column
    published, params = (
        Innovation.objects.published().order_by().values_list(key, *own).query.sql_with_params()
    )
    arrays = ", ".join(["%s::bigint[]", *["%s::text[]"] * len(CSV_TERMS)])
    statement = (
        f"COPY (WITH marks(formula, number, mark, risky) AS ({csvfile.MARKS_SQL})"
        f" SELECT {', '.join(cells)}"
        f" FROM unnest({arrays}) WITH ORDINALITY"
        f" AS chosen(id, {', '.join(CSV_TERMS)}, place)"
        f" JOIN ({published}) AS case_ ON case_.{key} = chosen.id CROSS JOIN marks"
        f" ORDER BY chosen.place) TO STDOUT WITH (FORMAT csv)"
    )
    return statement, params


def json_chunks(cases, url_of, head):
    """`{...head, "results": [case, ...]}`, one case after another."""
    yield dumps(head)[:-1] + ',"results":['
    for number, case in enumerate(cases):
        yield ("," if number else "") + dumps(case_json(case, url_of(case)))
    yield "]}"


def geojson_chunks(cases, url_of, head):
    """A FeatureCollection whose foreign members say where and when it was taken."""
    yield dumps({"type": "FeatureCollection", **head})[:-1] + ',"features":['
    for number, case in enumerate(cases):
        yield ("," if number else "") + dumps(feature(case, url_of(case)))
    yield "]}"


def view_name(filterset):
    """A file name for the view: the filters' values in the URL contract's order."""
    parts = []
    for name, value in filterset.cleaned_data.items():
        if name == "sort" or value in (None, "", []):
            continue
        parts.extend(value if isinstance(value, list) else [value])
    slug = slugify("-".join(str(part) for part in parts))[:80].strip("-")
    return "-".join(filter(None, ["innovations", slug]))


def filename(filterset, extension, taken):
    return f"{view_name(filterset)}-{taken:%Y-%m-%d}.{extension}"


def stamp(response, version, taken):
    """Say which catalogue version an answer shows, and when it was taken."""
    response["Catalogue-Version"] = str(version)
    response["Exported-At"] = taken.isoformat(timespec="seconds")
    return response


def export(request, filterset, format):
    """The filtered view in `format` (one of FORMATS), streamed."""
    taken = timezone.now().replace(microsecond=0)
    ids = filterset.ordered_ids
    version = filterset.index.version
    cases = case_rows(filterset)

    pages = request.build_absolute_uri(reverse("innovations:list"))

    def url_of(case):
        return f"{pages}{case.slug}/"

    head = {
        "catalogue_version": version,
        "exported_at": taken.isoformat(timespec="seconds"),
        "count": len(ids),
        "notices": [str(notice) for notice in filterset.notices],
    }
    chunks = {
        "csv": lambda: csv_chunks(filterset),
        "json": lambda: json_chunks(cases, url_of, head),
        "geojson": lambda: geojson_chunks(cases, url_of, head),
    }[format]()
    response = StreamingHttpResponse(chunks, content_type=FORMATS[format])
    response["Content-Disposition"] = f'attachment; filename="{filename(filterset, format, taken)}"'
    response["X-Total-Count"] = str(len(ids))
    return stamp(response, version, taken)


def case_response(request, innovation, index=None):
    """A published case (with its country) as JSON: what `/innovations/<slug>.json` and
    `/innovations/<slug>/?format=json` answer. `index`: the page's, if it has one."""
    index = index or current_index()
    innovation.terms = index.terms_of([innovation.pk])[innovation.pk]
    url = request.build_absolute_uri(innovation.get_absolute_url())
    response = JsonResponse(case_json(innovation, url), json_dumps_params={"ensure_ascii": False})
    return stamp(response, index.version, timezone.now().replace(microsecond=0))


def case_jsonld(case, url, language):
    """A case as schema.org JSON-LD, for search engines and reference managers."""
    organisation = {"@type": "Organization", "name": case.organisation_name}
    if case.organisation_type == Innovation.OrganisationType.GOVERNMENT:
        organisation["@type"] = "GovernmentOrganization"
    if case.website:
        organisation["url"] = case.website
    data = {
        "@context": "https://schema.org",
        "@type": "CreativeWork",
        "@id": url,
        "url": url,
        "name": case.title,
        "description": case.short_explanation,
        "inLanguage": language,
        "dateCreated": case.created.isoformat(),
        "dateModified": case.updated.isoformat(),
        "keywords": [term.name for name in TERM_FIELDS for term in case.terms[name]],
        "spatialCoverage": {
            "@type": "Country",
            "name": case.country.name,
            "identifier": case.country_id,
        },
        "isPartOf": {"@type": "WebSite", "name": gettext("Innovation Catalogue")},
    }
    if case.organisation_name:
        data["creator"] = organisation
    if case.year:
        data["temporalCoverage"] = f"{case.year}/.."
    return data
