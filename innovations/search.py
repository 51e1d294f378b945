"""Full-text search: accent-insensitive, stemmed in English and Portuguese.

Each case has a stored, weighted search vector (title A; short explanation,
organisation, tags, sectors and country B; the long sections C) in its
`SearchDocument`, kept current on save and never computed per query. Two text search
configurations: `opsi_en` (created by migration) passes words through `unaccent` before
the English stemmer, which keeps it usable in a stored, indexed vector (unaccent()
itself is not immutable); `portuguese` stems Portuguese.
"""

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import F
from django.utils.html import escape
from django.utils.safestring import mark_safe

# `opsi_en` unaccents, then stems in English: "inovacao" and "Sao" find "inovação" and
# "São". Portuguese's stemmer folds inflections only on accented words, so it runs on
# the text as written: "inovações" finds "inovação".
CONFIGS = ("opsi_en", "portuguese")
# Sentinels that cannot appear in stored text (it is plain text), replaced by <mark>
# only after the snippet has been escaped.
START, STOP = "\ue000", "\ue001"


def document_sql(links=None):
    """SQL for the search vector of the case aliased `i`: a row of the cases table or
    of a table like it. Gathers the parts that the SQL function `innovation_search_document`
    (migration 0004) weighs and stems. `links` may name tables like the tags' and
    sectors' link tables to read those from instead (a bulk loader's staging tables)."""
    from .models import SECTION_FIELDS, Innovation

    links = {
        name: getattr(Innovation, name).through._meta.db_table for name in ("tags", "sectors")
    } | (links or {})
    sections = ", ".join(f"i.{name}" for name in SECTION_FIELDS)
    return f"""innovation_search_document(
        i.title,
        concat_ws(' ', i.short_explanation, i.organisation_name,
            (SELECT string_agg(t.name, ' ' ORDER BY t.name) FROM {links["tags"]} l
                JOIN innovations_tag t ON t.id = l.tag_id WHERE l.innovation_id = i.id),
            (SELECT string_agg(s.name, ' ' ORDER BY s.name) FROM {links["sectors"]} l
                JOIN innovations_sector s ON s.id = l.sector_id WHERE l.innovation_id = i.id),
            (SELECT c.name FROM innovations_country c WHERE c.code = i.country_id)),
        concat_ws(' ', {sections})
    )"""


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
