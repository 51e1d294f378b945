"""The catalogue list: filters, sorting, paging, JSON and permalinks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from innovations.models import Tag

LIST = "/innovations/"


def slugs(client, query=""):
    return [row["slug"] for row in client.get(f"{LIST}?format=json&{query}").json()["results"]]


def count(client, query=""):
    return client.get(f"{LIST}?format=json&{query}").json()["count"]


@pytest.fixture
def catalogue(make_innovation):
    """Four cases that differ on every facet."""
    return {
        "lisbon": make_innovation(
            slug="lisbon",
            title="Lisbon portal",
            country="PT",
            level="local",
            year=2021,
            sectors=["health"],
            stages=["implementation"],
            recognitions=["award-winner"],
            tags=["open-data", "transparency"],
        ),
        "madrid": make_innovation(
            slug="madrid",
            title="Madrid lab",
            country="ES",
            level="local",
            year=2018,
            sectors=["education"],
            stages=["evaluation"],
            tags=["open-data"],
        ),
        "brasil": make_innovation(
            slug="brasil",
            title="Brasil chatbot",
            country="BR",
            level="national",
            year=2015,
            sectors=["health", "education"],
            stages=["implementation"],
            recognitions=["featured-case"],
            tags=["chatbots"],
        ),
        "porto": make_innovation(
            slug="porto",
            title="Porto card",
            country="PT",
            level="regional",
            year=None,
            sectors=["housing-and-community"],
            tags=[],
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("country=PT", {"lisbon", "porto"}),
        ("level=national", {"brasil"}),
        ("sector=education", {"madrid", "brasil"}),
        ("stage=evaluation", {"madrid"}),
        ("recognition=award-winner", {"lisbon"}),
        ("tag=chatbots", {"brasil"}),
        ("year_from=2016", {"lisbon", "madrid"}),
        ("year_to=2018", {"madrid", "brasil"}),
        ("year_from=2016&year_to=2019", {"madrid"}),
        ("q=chatbot", {"brasil"}),
    ],
)
def test_each_facet_alone(client, catalogue, query, expected):
    assert set(slugs(client, query)) == expected


def test_values_inside_one_facet_are_ored(client, catalogue):
    assert set(slugs(client, "country=PT&country=BR")) == {"lisbon", "porto", "brasil"}


def test_facets_are_anded(client, catalogue):
    assert set(slugs(client, "country=PT,ES&sector=health")) == {"lisbon"}
    assert slugs(client, "country=ES&tag=chatbots") == []


def test_repeated_and_comma_separated_values_agree(client, catalogue):
    assert slugs(client, "tag=open-data&tag=chatbots") == slugs(client, "tag=open-data,chatbots")


def test_country_codes_are_case_insensitive(client, catalogue):
    assert set(slugs(client, "country=pt")) == {"lisbon", "porto"}


def test_a_case_with_two_chosen_tags_appears_once(client, catalogue):
    data = client.get(f"{LIST}?format=json&tag=open-data,transparency").json()
    assert [row["slug"] for row in data["results"]].count("lisbon") == 1
    assert data["count"] == 2


def test_default_sort_is_newest_launch_with_unknown_years_last(client, catalogue):
    assert slugs(client) == ["lisbon", "madrid", "brasil", "porto"]


def test_sort_by_title(client, catalogue):
    assert slugs(client, "sort=title") == ["brasil", "lisbon", "madrid", "porto"]


def test_sort_by_recently_added(client, catalogue):
    assert slugs(client, "sort=added") == ["porto", "brasil", "madrid", "lisbon"]


def test_twenty_cases_a_page(client, make_innovation):
    for number in range(45):
        make_innovation(title=f"Case {number:02d}")
    first = client.get(f"{LIST}?format=json&sort=title").json()
    third = client.get(f"{LIST}?format=json&sort=title&page=3").json()
    assert (first["count"], first["pages"], len(first["results"])) == (45, 3, 20)
    assert [row["title"] for row in third["results"]] == [f"Case {n}" for n in range(40, 45)]


def test_page_links_keep_the_filters(client, make_innovation):
    for _ in range(25):
        make_innovation(country="ES")
    page = client.get(f"{LIST}?country=ES&sort=title").content.decode()
    assert 'href="?country=ES&amp;sort=title&amp;page=2"' in page


def test_json_and_html_list_the_same_cases_in_the_same_order(client, catalogue):
    query = "sector=health,education&sort=title"
    data = client.get(f"{LIST}?format=json&{query}").json()
    html = client.get(f"{LIST}?{query}").content.decode()
    positions = [html.index(f'href="/innovations/{row["slug"]}/') for row in data["results"]]
    assert positions == sorted(positions)
    assert f"{data['count']} innovations" in html


def test_json_is_also_given_to_clients_that_accept_it(client, catalogue):
    response = client.get(f"{LIST}?country=PT", headers={"accept": "application/json"})
    assert response["content-type"] == "application/json"
    assert response.json()["count"] == 2
    assert "Accept" in response["Vary"]


def test_json_row_carries_the_whole_case(client, catalogue):
    row = client.get(f"{LIST}?format=json&country=BR").json()["results"][0]
    assert row == {
        "slug": "brasil",
        "title": "Brasil chatbot",
        "short_explanation": catalogue["brasil"].short_explanation,
        "country": "BR",
        "level": "national",
        "sectors": ["education", "health"],
        "stages": ["implementation"],
        "year": 2015,
        "recognitions": ["featured-case"],
        "tags": ["chatbots"],
        "latitude": catalogue["brasil"].country.latitude,
        "longitude": catalogue["brasil"].country.longitude,
        "url": "http://testserver/innovations/brasil/",
    }


def test_a_card_shows_the_tags_the_case_has_now(client, catalogue):
    def card_tags():
        html = client.get(f"{LIST}?country=PT&level=local").content.decode()
        return html.split('<ul class="tags"', 1)[1].split("</ul>", 1)[0]

    assert "<li>Open data</li><li>Transparency</li>" in card_tags()
    catalogue["lisbon"].tags.set(Tag.objects.filter(slug="chatbots"))
    assert "<li>Chatbots</li>" in card_tags()
    assert "Transparency" not in card_tags()


def test_a_case_with_its_own_location_is_placed_there(client, make_innovation):
    make_innovation(slug="porto-card", latitude=41.1579, longitude=-8.6291)
    row = client.get(f"{LIST}?format=json").json()["results"][0]
    assert (row["latitude"], row["longitude"]) == (41.1579, -8.6291)


def test_a_permalink_reproduces_the_view(client, catalogue):
    query = "country=pt,es&tag=open-data&sort=title"
    first = client.get(f"{LIST}?{query}").content
    again = client.get(f"{LIST}?{query}").content
    assert first == again
    assert 'value="open-data" checked' in first.decode()


def test_chips_remove_one_value_and_keep_the_rest(client, catalogue):
    page = client.get(f"{LIST}?country=PT,ES&tag=open-data").content.decode()
    assert 'href="?tag=open-data&amp;country=ES"' in page
    assert 'href="?country=PT%2CES"' in page
    assert "Clear all" in page


def test_drafts_appear_nowhere_public(client, make_innovation):
    make_innovation(slug="public", tags=["open-data"])
    make_innovation(slug="secret", country="FR", tags=["open-data"], status="draft")
    data = client.get(f"{LIST}?format=json").json()
    assert [row["slug"] for row in data["results"]] == ["public"]
    assert [option["value"] for option in data["facets"]["country"]] == ["PT"]
    tag = next(o for o in data["facets"]["tag"] if o["value"] == "open-data")
    assert tag["count"] == 1
    assert "secret" not in client.get(LIST).content.decode()
    assert client.get("/innovations/secret/").status_code == 404


def test_the_home_page_leads_to_the_catalogue(client, catalogue):
    response = client.get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'href="/innovations/"' in page
    assert 'href="/innovations/map/"' in page
    assert "<strong>4</strong> innovations" in page


def queries_for(client, url):
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def many(make_innovation, number):
    for n in range(number):
        make_innovation(
            country=["PT", "ES", "FR", "BR"][n % 4],
            tags=[["open-data"], ["chatbots", "skills"], []][n % 3],
            sectors=["health"],
            stages=["implementation"],
            recognitions=["featured-case"] if n % 5 == 0 else [],
            year=2000 + n % 20,
        )


@pytest.mark.parametrize("url", [LIST, f"{LIST}?format=json", f"{LIST}?country=PT&tag=chatbots"])
def test_list_query_count_does_not_grow_with_the_data(client, make_innovation, make_many, url):
    many(make_innovation, 10)
    client.get(url)  # the process's index catches up with the changes
    assert queries_for(client, url) == 2
    make_many(490, year=lambda n: 1990 + n % 30)
    client.get(url)
    assert queries_for(client, url) == 2


@pytest.mark.parametrize("url", [LIST, f"{LIST}?country=PT,ES&tag=chatbots&sector=health"])
def test_a_page_reads_the_catalogue_version_and_its_cases(client, make_innovation, url):
    """Counts, order, the filters' values and the cards' terms come from the index."""
    many(make_innovation, 10)
    client.get(url)  # the process's index catches up with the changes
    # The changes not yet applied (none), then the page's cases.
    assert queries_for(client, url) == 2


def test_an_area_narrows_the_list_and_shows_as_a_removable_chip(client, make_innovation):
    make_innovation(slug="porto", country="PT", latitude=41.15, longitude=-8.61)
    make_innovation(slug="lisbon", country="PT")  # at the capital
    make_innovation(slug="madrid", country="ES")
    data = client.get(f"{LIST}?format=json&bbox=-9,41,-8,42&country=PT").json()
    assert [row["slug"] for row in data["results"]] == ["porto"]
    page = client.get(f"{LIST}?bbox=-9,41,-8,42&country=PT").content.decode()
    assert '<span class="chip-facet">Area:</span> -9,41,-8,42' in page
    assert 'href="?country=PT"' in page


def test_a_malformed_area_is_ignored_with_a_notice(client, make_innovation):
    make_innovation(slug="porto", country="PT")
    data = client.get(f"{LIST}?format=json&bbox=1,2,3").json()
    assert data["count"] == 1
    assert data["notices"] == [
        "Area: the value given was not understood and was ignored. "
        "Give bbox as four numbers separated by commas: west,south,east,north."
    ]
