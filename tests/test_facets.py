"""Facet counts are disjunctive: each facet is counted under every filter but its own."""

import re

import pytest

LIST = "/innovations/?format=json"


def facet(client, name, query=""):
    data = client.get(f"{LIST}&{query}").json()
    return {
        option["value"]: (option["count"], option["selected"]) for option in data["facets"][name]
    }


@pytest.fixture
def cases(make_innovation):
    make_innovation(country="PT", level="local", tags=["open-data", "transparency"], year=2020)
    make_innovation(country="PT", level="national", tags=["open-data"], year=2021)
    make_innovation(country="ES", level="local", tags=["chatbots"], year=2021)
    make_innovation(country="BR", level="local", tags=[], year=None)


def test_every_facet_is_present(client, cases):
    data = client.get(LIST).json()
    assert list(data["facets"]) == [
        "country",
        "level",
        "sector",
        "year",
        "stage",
        "recognition",
        "tag",
    ]


def test_counts_without_filters(client, cases):
    assert facet(client, "country") == {"BR": (1, False), "PT": (2, False), "ES": (1, False)}
    assert facet(client, "level")["local"] == (3, False)


def test_cases_that_are_not_published_are_not_counted(client, cases, make_innovation):
    make_innovation(country="ES", tags=["chatbots", "open-data"], status="draft")
    make_innovation(country="ES", tags=["chatbots"], status="archived")
    tags = facet(client, "tag")
    assert (tags["chatbots"], tags["open-data"]) == ((1, False), (2, False))
    assert facet(client, "country")["ES"] == (1, False)


def test_picking_a_country_leaves_the_other_countries_counts(client, cases):
    assert facet(client, "country", "country=PT") == {
        "BR": (1, False),
        "PT": (2, True),
        "ES": (1, False),
    }


def test_other_facets_follow_the_chosen_country(client, cases):
    levels = facet(client, "level", "country=PT")
    assert (levels["local"], levels["national"]) == ((1, False), (1, False))
    tags = facet(client, "tag", "country=PT")
    assert (tags["open-data"], tags["chatbots"]) == ((2, False), (0, False))


def test_each_count_is_what_ticking_the_option_gives(client, cases):
    query = "country=PT&level=local"
    for value, (number, _selected) in facet(client, "tag", query).items():
        ticked = client.get(f"{LIST}&{query}&tag={value}").json()["count"]
        assert ticked == number, value


def test_a_chosen_value_with_no_cases_stays_listed_and_selected(client, cases):
    assert facet(client, "country", "country=FR&level=national")["FR"] == (0, True)


def test_the_year_selects_show_the_years_in_force_even_without_cases(client, cases):
    page = client.get("/innovations/?year_from=1900&year_to=2019").content.decode()
    assert '<option value="1900" selected>1900 (0)</option>' in page
    assert re.search(r'<option value="2019" selected>2019 \(\d+\)</option>', page)
    # A year that is not one is ignored, and offered as no option.
    response = client.get("/innovations/?year_from=soon")
    assert response.status_code == 200
    assert " (0)</option>" not in response.content.decode()


def test_year_counts_ignore_the_year_range_but_follow_other_filters(client, cases):
    assert facet(client, "year", "year_from=2021&level=local") == {
        2020: (1, False),
        2021: (1, True),
    }


def test_vocabulary_facets_list_every_term_in_order(client, cases):
    stages = list(facet(client, "stage"))
    assert stages == [
        "identifying-problems-or-opportunities",
        "generating-ideas",
        "developing-proposals",
        "implementation",
        "evaluation",
        "diffusing-lessons",
    ]
    assert len(facet(client, "sector")) == 13


def test_the_html_panel_shows_counts(client, cases):
    page = client.get("/innovations/?country=PT").content.decode()
    assert 'value="ES"> Spain <span class="count">1</span>' in page
    assert 'value="PT" checked> Portugal <span class="count">2</span>' in page
