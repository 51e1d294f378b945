"""Full-text search: accent-insensitive, stemmed in English and Portuguese.

The whole of search is here: how web-style text becomes a query, how matches are
found and ranked, how titles stand in for a typo, and how snippets are highlighted.

The database builds every case's weighted vector (title A; short explanation,
organisation, tags, sectors and country B; the long sections C) and keeps it current in
`SearchDocument`: one SQL function, `innovations_refresh_search()` (migration 0010), is
called by triggers whenever a case, its tags or sectors, or their names change, so saves,
bulk loads and migrations build vectors alike. Two text search configurations:
`opsi_en` (migration 0004) passes words through `unaccent` before the English stemmer,
which keeps it usable in a stored, indexed vector; `portuguese` stems Portuguese.

A search asks PostgreSQL for the ids that match; the catalogue index keeps the
published ones and does the rest (facets, order, pages).
"""

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    TrigramWordSimilarity,
)
from django.db import connection
from django.db.models import F
from django.utils.html import escape
from django.utils.safestring import mark_safe

from ..models import Innovation, SearchDocument

# `opsi_en` unaccents, then stems in English: "inovacao" and "Sao" find "inovação" and
# "São". Portuguese's stemmer folds inflections only on accented words, so it runs on
# the text as written: "inovações" finds "inovação".
CONFIGS = ("opsi_en", "portuguese")
# Sentinels that cannot appear in stored text (it is plain text), replaced by <mark>
# only after the snippet has been escaped.
START, STOP = "\ue000", "\ue001"


def fetch(queryset):
    """The rows of a `values_list()` queryset as the driver gives them: for thousands
    of rows, the ORM's per-value converters take longer than the query."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def query(text):
    """Web-style syntax ("quoted phrases", or, -word) in either language."""
    first, *others = (SearchQuery(text, config=c, search_type="websearch") for c in CONFIGS)
    for other in others:
        first = first | other
    return first


def rank(vector_field, search_query):
    """How well a stored vector matches: a word in the title (A) weighs 1, in the short
    explanation and terms (B) 0.4, in the long sections (C) 0.2."""
    return SearchRank(F(vector_field), search_query, weights=[0.1, 0.2, 0.4, 1.0])


def matches(text):
    """(case id, rank) of every case that web-style `text` finds, whatever its status:
    the catalogue index knows which cases are published."""
    search_query = query(text)
    found = SearchDocument.objects.filter(vector=search_query)
    return fetch(
        found.annotate(rank=rank("vector", search_query)).values_list("innovation_id", "rank")
    )


def similar_titles(text):
    """(case id, similarity) of the cases whose titles look like `text`: what stands in
    when a typo matches nothing ("did you mean")."""
    similar = Innovation.objects.filter(title__trigram_word_similar=text)
    return fetch(
        similar.annotate(rank=TrigramWordSimilarity(text, "title")).values_list("pk", "rank")
    )


def with_snippets(cases, text):
    """The cases (a queryset) with `snippet`: the short explanation around the words
    that `text` finds, marked."""
    return cases.annotate(
        snippet=SearchHeadline(
            "short_explanation",
            query(text),
            config=CONFIGS[0],
            start_sel=START,
            stop_sel=STOP,
            max_words=35,
            min_words=15,
        )
    )


def highlighted(snippet):
    """The snippet escaped, with the matching words in <mark>."""
    return mark_safe(escape(snippet).replace(START, "<mark>").replace(STOP, "</mark>"))
