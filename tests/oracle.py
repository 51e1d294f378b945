"""What the catalogue's URL contract means, written as plain SQL through the ORM.

The site answers from its in-memory index (innovations.catalogue); this is the same
contract written the obvious, slow way, for the tests to hold the two together. It is
never used by the site.
"""

from django.contrib.postgres.search import (
    SearchQuery,
    SearchVectorExact,
    SearchVectorField,
    TrigramWordSimilarity,
)
from django.db.models import Case, F, FloatField, Func, Q, Value, When
from django.db.models.functions import Coalesce

from innovations.models import Innovation

CONFIGS = ("opsi_en", "portuguese")
TERMS = {"sector": "sectors", "stage": "stages", "recognition": "recognitions", "tag": "tags"}
PAGE_SIZE = 20


def text_query(text):
    first, *others = (SearchQuery(text, config=c, search_type="websearch") for c in CONFIGS)
    for other in others:
        first = first | other
    return first


def condition(name, values):
    """The SQL condition of one parameter's valid values."""
    if name == "country":
        return Q(country_id__in=values)
    if name == "level":
        return Q(level__in=values)
    if name in TERMS:
        return Q(**{f"{TERMS[name]}__slug__in": values})
    if name == "year_from":
        return Q(year__gte=values)
    if name == "year_to":
        return Q(year__lte=values)
    if name == "bbox":
        west, south, east, north = values
        inside = Q(lat__gte=south, lat__lte=north)
        if west <= east:
            return inside & Q(lng__gte=west, lng__lte=east)
        return inside & (Q(lng__gte=west) | Q(lng__lte=east))
    raise ValueError(name)


class TitleOnly(Func):
    """A vector's words at weight A (the title's)."""

    template = "ts_filter(%(expressions)s, '{a}')"
    output_field = SearchVectorField()


def searched(cases, text):
    """The cases that `text` finds, with their rank (1 where the whole query is in the
    title, else 0); similar titles when it finds none."""
    query = text_query(text)
    in_title = SearchVectorExact(TitleOnly("search_document__vector"), query)
    found = cases.filter(search_document__vector=query).annotate(
        rank=Case(When(in_title, then=Value(1.0)), default=Value(0.0), output_field=FloatField())
    )
    if found.exists():
        return found, False
    similar = cases.filter(title__trigram_word_similar=text)
    return similar.annotate(rank=TrigramWordSimilarity(text, "title")), True


ORDERS = {
    "relevance": ["-rank", F("year").desc(nulls_last=True), "-created", "pk"],
    "newest": [F("year").desc(nulls_last=True), "-created", "pk"],
    "added": ["-created", "pk"],
    "title": ["title", "pk"],
}


def answer(params):
    """{"ids": the page's ids in order, "count", "page", "facets": {facet: {value: count}}}
    for valid, parsed parameters: lists of values, years, a bbox tuple, q, sort, page."""
    cases = Innovation.objects.filter(status="published").annotate(
        lat=Coalesce("latitude", "country__latitude"),
        lng=Coalesce("longitude", "country__longitude"),
    )
    text = params.get("q")
    if text:
        cases, _fallback = searched(cases, text)
    filters = {name: value for name, value in params.items() if name not in ("q", "sort", "page")}

    def matching(without=()):
        """The ids of the cases that every filter but `without`'s selects."""
        selected = cases
        for name, value in filters.items():
            if name not in without:
                selected = selected.filter(condition(name, value))
        return set(selected.values_list("pk", flat=True))

    def counted(ids, field):
        counts = {}
        for value in Innovation.objects.filter(pk__in=ids).values_list(field, flat=True):
            if value is not None:
                counts[value] = counts.get(value, 0) + 1
        return counts

    order = params.get("sort")
    if text:
        order = order or "relevance"
    elif not order or order == "relevance":
        order = "newest"
    chosen = matching()
    ids = [pk for pk in cases.order_by(*ORDERS[order]).values_list("pk", flat=True) if pk in chosen]
    pages = max(1, -(-len(ids) // PAGE_SIZE))
    page = min(max(params.get("page", 1), 1), pages)
    fields = {"country": "country_id", "level": "level"}
    fields |= {facet: f"{field}__slug" for facet, field in TERMS.items()}
    facets = {facet: counted(matching(without={facet}), field) for facet, field in fields.items()}
    facets["year"] = counted(matching(without={"year_from", "year_to"}), "year")
    return {
        "ids": ids[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        "count": len(ids),
        "page": page,
        "facets": facets,
    }
