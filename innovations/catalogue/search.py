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

A search asks PostgreSQL for the ids that match, or the common words' postings where
they hold every word (`postings.py`); the catalogue index keeps the published ones and
does the rest (facets, order, pages). Relevance is one rule whichever answers: cases
with the whole query in their title first.
"""

import numpy as np
from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    TrigramWordSimilarity,
)
from django.db import connection
from django.utils.html import escape
from django.utils.safestring import mark_safe

from ..models import Innovation, SearchDocument, TitleWords
from .index import binary_array, locate

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


def matches(text, postings=None):
    """The ids (ascending) of every case that web-style `text` finds, whatever its
    status (from postings, a -word adds ids of no case), for the catalogue index keeps
    the published cases; and how relevant each is: 1 where the whole query is found in
    the title, else 0 (the index orders cases that are as relevant by newest launch).

    From the common words' `postings` where they can answer, else from PostgreSQL:
    either way, the same cases."""
    search_query = query(text)
    answered = postings and postings.matching(written(search_query))
    if answered:
        found, titled = answered
    else:
        documents = SearchDocument.objects.filter(vector=search_query)
        titles = SearchDocument.objects.alias(words=TitleWords("vector")).filter(words=search_query)
        found, titled = ids(documents, titles)
    return found, locate(titled, found)[1].astype(float)


def written(search_query):
    """The query's text as PostgreSQL parses it: a tsquery's."""
    documents = SearchDocument.objects.all()
    compiler = documents.query.get_compiler(connection=connection)
    sql, params = compiler.compile(search_query.resolve_expression(documents.query))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({sql})::text", params)
        return cursor.fetchone()[0]


def ids(*documents):
    """The case ids of each of these querysets of search documents, ascending, as
    arrays, in one query."""
    parts = [part.values_list("innovation_id").query.sql_with_params() for part in documents]
    arrays = ", ".join(f"array_send(ARRAY({sql}))" for sql, _params in parts)
    with connection.binary_cursor() as cursor:
        cursor.execute(f"SELECT {arrays}", [value for _sql, params in parts for value in params])
        return [np.unique(binary_array(data, "i8")) for data in cursor.fetchone()]


def similar_titles(text):
    """The ids (ascending) of the cases whose titles look like `text`, and how much
    each looks like it: what stands in when a typo matches nothing ("did you mean")."""
    similar = Innovation.objects.filter(title__trigram_word_similar=text)
    rows = similar.annotate(rank=TrigramWordSimilarity(text, "title")).values_list("pk", "rank")
    rows = sorted(rows)
    return (
        np.array([pk for pk, _rank in rows], dtype=np.int64),
        np.array([rank for _pk, rank in rows], dtype=float),
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
