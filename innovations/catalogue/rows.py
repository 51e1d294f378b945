"""The rows a page shows, read from PostgreSQL by id: the index says which and in what
order, the database what they say now."""

from ..models import SECTION_FIELDS, Innovation
from . import search


def in_order(index, ids, text=None):
    """The published cases with these ids, in that order, with their country and terms
    (from the index) and, when searching for `text`, a snippet: one query for any page."""
    ids = [int(pk) for pk in ids]
    cases = Innovation.objects.filter(pk__in=ids).order_by().defer(*SECTION_FIELDS)
    if text:
        cases = search.with_snippets(cases, text)
    by_id = {case.pk: case for case in cases}
    shown = [by_id[pk] for pk in ids if pk in by_id]
    terms = index.terms_of([case.pk for case in shown])
    for case in shown:
        case.terms = terms[case.pk]
        with_country(index, case)
    return shown


def published(index, cases, **lookup):
    """The case that `lookup` names (a slug) if the index holds it, else None: one query.
    The case's country and terms are read from the index."""
    case = cases.filter(**lookup).first()
    if case is None or not index.holds([case.pk])[0]:
        return None
    case.terms = index.terms_of([case.pk])[case.pk]
    with_country(index, case)
    return case


def with_country(index, case):
    """Give the case its country from the index, rather than join the countries' table
    to every read. A country the index does not know (added since it was loaded, between
    the page's version check and its rows) is read from the database when it is shown."""
    number = index.vocabularies["country"].position.get(case.country_id)
    if number is not None:
        case.country = index.countries[number]
