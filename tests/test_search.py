"""Ranked full-text search: accents, stemming, web syntax, typos, facets."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from innovations.catalogue import freshness, postings
from innovations.catalogue.index import CatalogueIndex
from innovations.models import Innovation, Tag

LIST = "/innovations/"


def found(client, text, extra=""):
    data = client.get(LIST, {"format": "json", "q": text}, QUERY_STRING=extra).json()
    return [row["slug"] for row in data["results"]]


def search(client, query):
    return client.get(f"{LIST}?format=json&{query}").json()


@pytest.fixture
def cases(make_innovation):
    make_innovation(
        slug="inovacao",
        title="Laboratório de inovação",
        short_explanation="Inovação nas administrações públicas de São Paulo.",
        country="BR",
    )
    make_innovation(
        slug="open-data",
        title="Open data portal",
        short_explanation="Citizens engaging with the budget of Lisbon.",
        tags=["transparency"],
    )
    make_innovation(
        slug="data-open",
        title="Budget explorer",
        short_explanation="The data is open to everyone in Madrid.",
        country="ES",
    )
    make_innovation(
        slug="chatbot",
        title="Virtual assistant",
        short_explanation="An AI chatbot answers questions.",
        overview="Built with open data about services.",
    )


def test_accents_do_not_matter(client, cases):
    assert found(client, "inovacao") == ["inovacao"]
    assert found(client, "Sao Paulo") == ["inovacao"]
    assert found(client, "INOVAÇÃO") == ["inovacao"]


def test_portuguese_words_are_stemmed(client, cases):
    assert found(client, "inovações") == ["inovacao"]
    assert found(client, "administração pública") == ["inovacao"]


def test_english_words_are_stemmed(client, cases):
    assert found(client, "engagement citizen") == ["open-data"]
    assert found(client, "chatbots answering") == ["chatbot"]


def test_a_quoted_phrase_matches_only_the_phrase(client, cases):
    assert set(found(client, "open data")) == {"open-data", "data-open", "chatbot"}
    assert set(found(client, '"open data"')) == {"open-data", "chatbot"}


def test_or_and_exclusion(client, cases):
    assert set(found(client, "chatbot or madrid")) == {"chatbot", "data-open"}
    assert set(found(client, "data -madrid")) == {"open-data", "chatbot"}


def test_tags_sectors_and_countries_are_searchable(client, cases):
    assert found(client, "transparency") == ["open-data"]
    assert found(client, "brazil") == ["inovacao"]


def test_a_title_match_ranks_above_a_body_match(client, cases):
    assert found(client, '"open data"') == ["open-data", "chatbot"]


def test_results_show_the_matching_words_highlighted(client, cases):
    page = client.get(LIST, {"q": "chatbot"}).content.decode()
    assert "An AI <mark>chatbot</mark> answers questions." in page


def test_a_snippet_never_carries_markup_from_the_text(client, make_innovation):
    make_innovation(short_explanation="A <b onclick=alert(1)>chatbot</b> & <script>x()</script>")
    page = client.get(LIST, {"q": "chatbot"}).content.decode()
    assert "<script>x()</script>" not in page
    assert "<b onclick" not in page
    assert "<mark>chatbot</mark>" in page


def test_a_typo_falls_back_to_similar_titles(client, cases):
    data = search(client, "q=asistant+virtal")
    assert [row["slug"] for row in data["results"]] == ["chatbot"]
    assert "Did you mean" in data["notices"][0]


@pytest.mark.parametrize("text", ["!!!", "zzqxv", "asistant+virtal&country=ES"])
def test_nothing_alike_offers_no_suggestions(client, cases, text):
    # Nothing matches, and no similar title passes the filters: nothing to suggest.
    for page in (LIST, "/innovations/stats/", "/innovations/map/"):
        html = client.get(f"{page}?q={text}").content.decode()
        assert "Did you mean" not in html, page
    data = search(client, f"q={text}")
    assert data["count"] == 0
    assert not any("Did you mean" in notice for notice in data["notices"])


def test_relevance_is_the_default_order_when_searching(client, cases):
    page = client.get(LIST, {"q": "data"}).content.decode()
    # Selected, and sent as no order at all, so that it stays the default.
    assert '<option value="" selected>Relevance</option>' in page
    assert ">Relevance</option>" not in client.get(LIST).content.decode()
    page = client.get(LIST, {"q": "data", "sort": "title"}).content.decode()
    assert '<option value="relevance">Relevance</option>' in page


def test_search_combines_with_facets_and_counts_follow_it(client, cases):
    data = search(client, "q=data&country=PT")
    assert {row["slug"] for row in data["results"]} == {"open-data", "chatbot"}
    countries = {o["value"]: o["count"] for o in data["facets"]["country"]}
    assert countries == {"PT": 2, "ES": 1}


def test_a_new_case_is_searchable_at_once(client, make_innovation):
    assert found(client, "drones") == []
    make_innovation(slug="fresh", title="Drone deliveries")
    assert found(client, "drones") == ["fresh"]


def test_an_edited_case_is_searchable_at_once(client, cases):
    assert found(client, "participatory") == []
    case = Innovation.objects.get(slug="data-open")
    case.title = "Participatory budgeting"
    case.save()
    assert found(client, "participatory") == ["data-open"]


def searches(client, query):
    """The JSON list for `query`, and whether it searched the database's text."""
    with CaptureQueriesContext(connection) as context:
        data = search(client, query)
    return data, any("@@" in query["sql"] for query in context.captured_queries)


def test_refining_a_search_does_not_search_again(client, cases):
    first, searched = searches(client, "q=data")
    assert searched
    refined, searched_again = searches(client, "q=data&country=PT&sort=title")
    assert not searched_again
    assert [row["slug"] for row in refined["results"]] == ["open-data", "chatbot"]
    assert {row["slug"] for row in first["results"]} == {"open-data", "data-open", "chatbot"}


def test_only_the_most_recent_searches_are_remembered(client, cases, monkeypatch):
    monkeypatch.setattr(CatalogueIndex, "REMEMBER", 2)
    for text in ["data", "budget", "chatbot"]:
        searches(client, f"q={text}")
    assert not searches(client, "q=chatbot")[1]
    assert searches(client, "q=data")[1]


def test_changing_tags_or_renaming_one_updates_the_search(client, cases):
    case = Innovation.objects.get(slug="data-open")
    case.tags.add(Tag.objects.get(slug="chatbots"))
    assert "data-open" in found(client, "chatbots")
    tag = Tag.objects.get(slug="chatbots")
    tag.name = "Conversational agents"
    tag.save()
    assert found(client, "conversational") == ["data-open"]


def test_drafts_are_never_found(client, make_innovation):
    make_innovation(slug="hidden", title="Secret chatbot", status="draft")
    assert found(client, "chatbot") == []
    assert found(client, "Secret chatbt") == []


def queries(client, url):
    with CaptureQueriesContext(connection) as context:
        client.get(url)
    return len(context.captured_queries)


@pytest.mark.parametrize(
    ("query", "from_postings", "count"),
    [
        # The changes not applied yet, the matches and those in titles, the page's
        # cases with snippets.
        ("q=budget", False, 3),
        ("q=budget&country=PT&sort=title", False, 3),
        # The same, with the query's words parsed and the matches from the common
        # words' postings.
        ("q=budget", True, 3),
        ("q=budget&country=PT&sort=title", True, 3),
        # The changes, no match, similar titles, the page's cases.
        ("q=budgett", False, 4),
        # The changes, the words, the typo looked up (the postings do not hold it),
        # similar titles, the page's cases.
        ("q=budgett", True, 5),
    ],
)
def test_search_query_count_does_not_grow_with_the_data(
    client, make_innovation, make_many, query, from_postings, count
):
    for number in range(10):
        make_innovation(title=f"Budget {number}", tags=["open-data"])
    if from_postings:
        postings.build()
    url = f"{LIST}?{query}"

    def caught_up():
        client.get(LIST)  # the process's index catches up with the changes
        if from_postings:
            freshness.attach_postings()  # as the refresh thread does

    caught_up()
    assert queries(client, url) == count
    make_many(990, title=lambda n: f"Budget bulk {n}", short_explanation="A budget case.")
    caught_up()
    assert queries(client, url) == count
