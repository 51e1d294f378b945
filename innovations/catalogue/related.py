"""Related cases: the published cases closest to one case, from the in-memory index.

Closeness is a score: each shared tag counts three, each shared sector two, and the
same country one. Ties go to the more recently added case (the higher id). Only the
index's public arrays and methods are used, so this follows the catalogue as it is.
"""

import numpy as np
from django.http import QueryDict

from . import rows
from .facets import without

WEIGHTS = {"tags": 3, "sectors": 2}
COUNTRY_WEIGHT = 1


def term_columns(index, field, position):
    """The positions in the vocabulary of the terms the case at `position` has."""
    bits = index.terms[field][:, position >> 3] >> (7 - (position & 7))
    return np.flatnonzero(bits & 1).tolist()


def scores(index, pk):
    """Every indexed case's closeness to case `pk` (its own is 0); None if unpublished."""
    found = index.positions([pk])
    if not len(found):
        return None
    position = int(found[0])
    score = COUNTRY_WEIGHT * (index.country == index.country[position]).astype(np.int16)
    for field, weight in WEIGHTS.items():
        columns = term_columns(index, field, position)
        if columns:
            having = np.unpackbits(index.terms[field][columns], axis=1, count=len(index.ids))
            score += weight * having.sum(axis=0, dtype=np.int16)
    score[position] = 0
    return score


def closest(index, pk, count=4):
    """The ids of the `count` cases closest to case `pk`, closest first; only cases that
    share something with it."""
    score = scores(index, pk)
    if score is None:
        return []
    # How many cases score at least each score gives the lowest score among the best
    # `count`: only the cases scoring that much are sorted, by score and then by id
    # (the later position).
    at_least = np.cumsum(np.bincount(score)[::-1])[::-1]
    enough = np.flatnonzero(at_least >= count)
    lowest = max(1, int(enough[-1])) if len(enough) else 1
    best = np.flatnonzero(score >= lowest)
    best = best[np.lexsort((best, score[best]))[::-1][:count]]
    return index.ids[best].tolist()


def trail(ordered_ids, pk):
    """Where case `pk` sits in a list of results: its place (from 0) and the ids before
    and after it (None at either end). None when the list does not hold it."""
    where = np.flatnonzero(ordered_ids == pk)
    if not len(where):
        return None
    place = int(where[0])
    return {
        "place": place,
        "previous": int(ordered_ids[place - 1]) if place else None,
        "next": int(ordered_ids[place + 1]) if place + 1 < len(ordered_ids) else None,
    }


def around(filterset, pk, page_size, count=4):
    """What a case's page shows around the case: the list it came from (`back_query`,
    with the page that holds it), the previous and next cases in that list, its place,
    and the related cases. One query reads all the cases it names."""
    list_query = without(filterset.data, "page")
    params = QueryDict(list_query, mutable=True)
    steps = trail(filterset.ordered_ids, pk)
    related = closest(filterset.index, pk, count)
    wanted = related + [steps[key] for key in ("previous", "next") if steps and steps[key]]
    cases = {case.pk: case for case in rows.in_order(filterset.index, wanted)}
    if steps and steps["place"] >= page_size:
        params["page"] = steps["place"] // page_size + 1
    return {
        "list_query": list_query,
        "back_query": params.urlencode(),
        "place": steps and steps["place"] + 1,
        "total": len(filterset.ordered_ids),
        "previous": steps and cases.get(steps["previous"]),
        "next": steps and cases.get(steps["next"]),
        "related": [cases[pk] for pk in related if pk in cases],
    }
