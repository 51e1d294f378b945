"""Disjunctive facet counts: each facet counted under every filter but its own.

So the counts stay true while a person picks: choosing Portugal leaves the other
countries' counts as they were, and each count is exactly what ticking that option
would give. Counting runs over the in-memory index of the catalogue (`index.py`).
"""

import numpy as np
from django.utils.translation import gettext_lazy as _


def _options(vocabulary, counts, chosen, keep):
    return [
        {"value": key, "label": str(label), "count": int(count), "selected": key in chosen}
        for key, label, count in zip(vocabulary.keys, vocabulary.labels, counts, strict=True)
        if keep(count, key in chosen)
    ]


def term_options(filterset, facet):
    """Every term of a vocabulary facet with its count, in the vocabulary's order.

    Countries are many: only those with cases (or chosen) are listed."""
    index = filterset.index
    name = filterset.filters[facet].field_name
    vocabulary = index.vocabularies[name]
    mask = filterset.mask(without=facet)
    if name in index.terms:
        counts = index.term_counts(name, mask)
    else:
        counts = np.bincount(getattr(index, name)[mask], minlength=len(vocabulary.keys))
    chosen = set(filterset.cleaned_data.get(facet, []))
    keep = (lambda count, selected: count or selected) if facet == "country" else None
    return _options(vocabulary, counts, chosen, keep or (lambda count, selected: True))


def year_options(filterset):
    """Each year of launch that has cases, counted under every filter but the years'."""
    index = filterset.index
    counts = np.bincount(index.year[filterset.mask(without="year")], minlength=1)
    counts[0] = 0  # the year is unknown
    years = np.flatnonzero(counts)
    counts = counts[years]
    low, high = filterset.cleaned_data.get("year_from"), filterset.cleaned_data.get("year_to")
    return [
        {
            "value": year,
            "label": str(year),
            "count": count,
            "selected": (low is not None or high is not None)
            and (low is None or year >= low)
            and (high is None or year <= high),
        }
        for year, count in zip(years.tolist(), counts.tolist(), strict=True)
    ]


def facet_counts(filterset):
    """All seven facets, in the order the filter panel shows them."""
    return {
        facet: year_options(filterset) if facet == "year" else term_options(filterset, facet)
        for facet in filterset.FACETS
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
            {"label": query, "facet": filterset.filters["q"].label, "query": without(params, "q")}
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
                    "query": without(params, facet, rest),
                }
            )
    for name in ("year_from", "year_to"):
        value = filterset.cleaned_data.get(name)
        if value is not None:
            result.append(
                {
                    "label": str(int(value)),
                    "facet": filterset.filters[name].label,
                    "query": without(params, name),
                }
            )
    area = filterset.cleaned_data.get("bbox")
    if area:
        result.append(
            {
                "label": ",".join(f"{value:g}" for value in area),
                "facet": filterset.filters["bbox"].label,
                "query": without(params, "bbox"),
            }
        )
    return result


def without(params, name, keep=()):
    """The query string `params` (a QueryDict) with parameter `name` set to `keep` (or
    dropped), and no page: the one place where a query string is rebuilt."""
    params = params.copy()
    params.pop("page", None)
    params.pop(name, None)
    if keep:
        params[name] = ",".join(keep)
    return params.urlencode()
