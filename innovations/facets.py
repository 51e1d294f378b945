"""Disjunctive facet counts: each facet counted under every filter but its own.

So the counts stay true while a person picks: choosing Portugal leaves the other
countries' counts as they were, and each count is exactly what ticking that option
would give.
"""

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from .models import Innovation, Recognition, Sector, Stage, Tag


def _option(value, label, count, selected):
    return {"value": value, "label": str(label), "count": count, "selected": selected}


def _counts(rows, key):
    return {row[key]: row["count"] for row in rows}


def country_options(filterset):
    chosen = {country.code: country for country in filterset.cleaned_data.get("country", [])}
    rows = (
        filterset.queryset_without("country")
        .order_by()
        .values("country", "country__name")
        .annotate(count=Count("pk"))
    )
    names = {row["country"]: row["country__name"] for row in rows}
    counts = _counts(rows, "country")
    names.update({code: country.name for code, country in chosen.items()})
    return [
        _option(code, name, counts.get(code, 0), code in chosen)
        for code, name in sorted(names.items(), key=lambda item: item[1])
    ]


def level_options(filterset):
    chosen = set(filterset.cleaned_data.get("level", []))
    counts = _counts(
        filterset.queryset_without("level").order_by().values("level").annotate(count=Count("pk")),
        "level",
    )
    return [
        _option(value, label, counts.get(value, 0), value in chosen)
        for value, label in Innovation.Level.choices
    ]


def vocabulary_options(filterset, facet, model):
    """Every term of a vocabulary with its count, in the vocabulary's own order."""
    field = Innovation._meta.get_field(filterset.filters[facet].field_name)
    through = field.remote_field.through
    term_column = field.m2m_reverse_name()
    chosen = {term.pk for term in filterset.cleaned_data.get(facet, [])}
    rows = (
        through.objects.filter(
            **{f"{field.m2m_field_name()}__in": filterset.queryset_without(facet).order_by()}
        )
        .values(term_column)
        .annotate(count=Count("pk"))
    )
    counts = _counts(rows, term_column)
    return [
        _option(term.slug, term.name, counts.get(term.pk, 0), term.pk in chosen)
        for term in model.objects.all()
    ]


def year_options(filterset):
    """Each year of launch that has cases, counted under every filter but the years'."""
    data = filterset.cleaned_data
    low, high = data.get("year_from"), data.get("year_to")
    rows = (
        filterset.queryset_without("year")
        .exclude(year=None)
        .order_by("year")
        .values("year")
        .annotate(count=Count("pk"))
    )
    return [
        _option(
            row["year"],
            str(row["year"]),
            row["count"],
            (low is not None or high is not None)
            and (low is None or row["year"] >= low)
            and (high is None or row["year"] <= high),
        )
        for row in rows
    ]


def facet_counts(filterset):
    """All seven facets, in the order the filter panel shows them."""
    return {
        "country": country_options(filterset),
        "level": level_options(filterset),
        "sector": vocabulary_options(filterset, "sector", Sector),
        "year": year_options(filterset),
        "stage": vocabulary_options(filterset, "stage", Stage),
        "recognition": vocabulary_options(filterset, "recognition", Recognition),
        "tag": vocabulary_options(filterset, "tag", Tag),
    }


def panel(filterset, facets):
    """The facets as the filter panel shows them, each with its label."""
    return [
        {
            "name": name,
            "label": _("Year of launch") if name == "year" else filterset.filters[name].label,
            "options": options,
        }
        for name, options in facets.items()
    ]


def chips(filterset, facets):
    """The chosen filters as removable chips: a label and the query string without it."""
    params = filterset.data
    result = []
    query = filterset.cleaned_data.get("q")
    if query:
        result.append(
            {"label": query, "facet": filterset.filters["q"].label, "query": _without(params, "q")}
        )
    for facet, options in facets.items():
        if facet == "year":
            continue
        chosen = [option for option in options if option["selected"]]
        for option in chosen:
            rest = [str(other["value"]) for other in chosen if other is not option]
            result.append(
                {
                    "label": option["label"],
                    "facet": filterset.filters[facet].label,
                    "query": _without(params, facet, rest),
                }
            )
    for name in ("year_from", "year_to"):
        value = filterset.cleaned_data.get(name)
        if value is not None:
            result.append(
                {
                    "label": str(int(value)),
                    "facet": filterset.filters[name].label,
                    "query": _without(params, name),
                }
            )
    return result


def _without(params, name, keep=()):
    """The query string with parameter `name` set to `keep` (or dropped) and no page."""
    params = params.copy()
    params.pop("page", None)
    params.pop(name, None)
    if keep:
        params[name] = ",".join(keep)
    return params.urlencode()
