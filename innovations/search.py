"""Full-text search: accent-insensitive, stemmed in English and Portuguese.

Each case stores a weighted `search_vector` (title A; short explanation, organisation,
tags, sectors and country B; the long sections C), kept current on save. The two
text search configurations `opsi_en` and `opsi_pt` pass words through `unaccent`
before stemming (created by migration), so "inovacao" finds "inovação" and the
configurations stay usable in stored, indexed vectors.
"""

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchVector
from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.aggregates import StringAgg
from django.utils.html import escape
from django.utils.safestring import mark_safe

# Portuguese's stemmer folds inflections only on accented words ("inovações" and
# "inovação" share a stem), so the plain `portuguese` configuration sits beside the
# unaccented ones ("inovacao" still finds "inovação").
CONFIGS = ("opsi_en", "opsi_pt", "portuguese")
# Sentinels that cannot appear in stored text (it is plain text), replaced by <mark>
# only after the snippet has been escaped.
START, STOP = "\ue000", "\ue001"


def _names(model):
    """The names of a case's terms of one vocabulary, as one string."""
    return Subquery(
        model.objects.filter(innovations=OuterRef("pk"))
        .order_by()
        .values("innovations")
        .annotate(text=StringAgg("name", Value(" ")))
        .values("text")
    )


def document():
    """The weighted search vector of a case, in both languages."""
    from .models import SECTION_FIELDS, Country, Sector, Tag

    country = Subquery(Country.objects.filter(pk=OuterRef("country_id")).values("name"))
    weighted = {
        "A": [F("title")],
        "B": [F("short_explanation"), F("organisation_name"), _names(Tag), _names(Sector), country],
        "C": [F(name) for name in SECTION_FIELDS],
    }
    parts = [
        SearchVector(*fields, config=config, weight=weight)
        for weight, fields in weighted.items()
        for config in CONFIGS
    ]
    vector = parts[0]
    for part in parts[1:]:
        vector = vector + part
    return vector


def query(text):
    """Web-style syntax ("quoted phrases", or, -word) in either language."""
    first, *others = (SearchQuery(text, config=c, search_type="websearch") for c in CONFIGS)
    for other in others:
        first = first | other
    return first


def headline(field, search_query):
    return SearchHeadline(
        field,
        search_query,
        config=CONFIGS[0],
        start_sel=START,
        stop_sel=STOP,
        max_words=35,
        min_words=15,
    )


def highlighted(snippet):
    """The snippet escaped, with the matching words in <mark>."""
    return mark_safe(escape(snippet).replace(START, "<mark>").replace(STOP, "</mark>"))
