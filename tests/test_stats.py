"""The statistics page: the filtered view's facet counts as charts, each with its table."""

import html
import re

import pytest

from innovations.catalogue.facets import facet_counts
from innovations.catalogue.filters import InnovationFilter
from innovations.catalogue.stats import TOP
from innovations.models import Country, Innovation

STATS = "/innovations/stats/"


@pytest.fixture
def cases(make_innovation):
    make_innovation(
        slug="lisbon",
        country="PT",
        level="local",
        year=2015,
        stages=["implementation"],
        tags=["open-data", "chatbots"],
    )
    make_innovation(slug="porto", country="PT", level="regional", year=2019, sectors=["health"])
    make_innovation(slug="madrid", country="ES", level="local", year=2019, tags=["open-data"])
    make_innovation(slug="paris", country="FR", level="national", sectors=["health", "education"])
    make_innovation(slug="draft", country="BR", year=2001, status=Innovation.Status.DRAFT)


def table(page, name):
    """The rows of one chart's table as (label, count), as a person reads them."""
    section = re.search(rf'<section class="chart chart-{name}".*?</section>', page, re.S).group()
    if "No innovations to count under these filters." in section:
        return None
    found = re.search(r"<tbody>(.*?)</tbody>", section, re.S)
    rows = re.findall(r'<th scope="row">(.*?)</th><td class="number">(\d+)</td>', found.group(1))
    return [
        (html.unescape(re.sub(r"<[^>]+>|\(chosen\)", "", label)).strip(), int(count))
        for label, count in rows
    ]


def bars(page, name):
    """The bars drawn in one chart, each as (label, count) from its tooltip."""
    found = re.search(rf'<section class="chart chart-{name}".*?</section>', page, re.S)
    if "<svg" not in found.group():
        return None
    return [
        (html.unescape(label), int(count))
        for label, count in re.findall(r"<title>(.*?): (\d+)</title>", found.group())
    ]


def expected(query, name):
    """The facet's options and counts for the same filters; None if every count is 0."""
    filterset = InnovationFilter(_params(query))
    options = [(option["label"], option["count"]) for option in facet_counts(filterset)[name]]
    return options if any(count for _label, count in options) else None


def _params(query):
    from django.http import QueryDict

    return QueryDict(query)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "country=PT",
        "level=local",
        "sector=health&country=PT,FR",
        "tag=open-data",
        "year_from=2016",
        "q=madrid",
        "country=XX",
    ],
)
def test_each_chart_equals_the_facet_counts_for_the_same_filters(client, cases, query):
    page = client.get(f"{STATS}?{query}").content.decode()
    for name in ("stage", "level", "sector"):
        assert table(page, name) == bars(page, name) == expected(query, name)
    for name in ("tag", "country"):
        options = expected(query, name)
        counted = (
            options
            and sorted([row for row in options if row[1]], key=lambda row: (-row[1], row[0]))[:TOP]
        )
        assert table(page, name) == bars(page, name) == counted
    years = [row for row in table(page, "year") or [] if row[1]]
    assert years == [row for row in expected(query, "year") or [] if row[1]]


def test_the_counts_follow_the_filters(client, cases):
    page = client.get(f"{STATS}?country=PT").content.decode()
    assert '<h2 id="result-count" data-count="2">2 innovations</h2>' in page
    assert table(page, "level") == [
        ("National/federal", 0),
        ("Regional/state", 1),
        ("Local", 1),
        ("Other", 0),
    ]
    # The country chart is counted under every filter but the country's, as its facet is.
    assert table(page, "country") == [("Portugal", 2), ("France", 1), ("Spain", 1)]
    assert '>Portugal</a> <span class="chosen">(chosen)</span>' in page


def test_the_years_run_without_gaps_from_the_first_to_the_last(client, cases):
    page = client.get(STATS).content.decode()
    rows = table(page, "year")
    assert [label for label, _count in rows] == [str(year) for year in range(2015, 2020)]
    assert dict(rows) == {"2015": 1, "2016": 0, "2017": 0, "2018": 0, "2019": 2}


def test_each_counted_option_links_to_the_list_narrowed_to_it(client, cases):
    page = html.unescape(client.get(f"{STATS}?country=PT&sort=title&page=2").content.decode())
    assert '<a href="/innovations/?country=PT&level=local">Local</a>' in page
    assert '<a href="/innovations/?country=PT&year_from=2019&year_to=2019">2019</a>' in page
    assert '<a href="/innovations/?country=ES">Spain</a>' in page
    assert '<th scope="row">National/federal' in page  # none: nothing to link to
    list_page = client.get("/innovations/?country=PT&level=local&format=json").json()
    assert list_page["count"] == dict(table(page, "level"))["Local"]


def test_drafts_are_never_counted(client, cases):
    page = client.get(STATS).content.decode()
    assert "2001" not in page
    assert "Brazil" not in page


def test_only_the_top_tags_and_countries_are_drawn_largest_first(client, make_many, seed):
    codes = list(Country.objects.order_by("code").values_list("code", flat=True)[: TOP + 5])
    make_many(120, country_id=lambda n: codes[min(n % 40, TOP + 4)])
    page = client.get(STATS).content.decode()
    rows = table(page, "country")
    assert len(rows) == TOP
    assert [count for _label, count in rows] == sorted((count for _l, count in rows), reverse=True)


def test_a_bar_is_as_long_as_its_share_of_the_largest(client, cases):
    page = client.get(STATS).content.decode()
    chart = re.search(r'<section class="chart chart-country".*?</svg>', page, re.S).group()
    widths = [
        float(width)
        for width in re.findall(
            r'<rect class="bar[^"]*" x="180" y="\d+" '
            r'width="([\d.]+)"',
            chart,
        )
    ]
    assert widths == [256.0, 128.0, 128.0]  # Portugal 2, France 1, Spain 1


def test_without_cases_each_chart_says_so(client, seed):
    page = client.get(STATS).content.decode()
    assert page.count("No innovations to count under these filters.") == 6
    assert "<svg" not in page


def test_bad_filters_give_a_notice_not_an_error(client, cases):
    response = client.get(f"{STATS}?country=XX&year_from=soon&tag=nope")
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Country: “XX” is not a known value and was ignored." in page


def test_charts_are_drawn_on_the_server_with_a_name_and_a_table(client, cases):
    page = client.get(STATS).content.decode()
    # Only the site's scripts for live filtering and the language links: none draws.
    site = r'<script src="[^"]+(filters|site)\.js" defer></script>'
    assert "<script" not in re.sub(site, "", page)
    for name in ("year", "stage", "level", "sector", "tag", "country"):
        assert f'role="img" aria-labelledby="chart-{name}" aria-describedby="table-{name}"' in page


def test_the_portuguese_page_is_translated_and_its_drawing_keeps_decimal_points(client, cases):
    page = client.get("/pt/innovations/stats/?country=PT").content.decode()
    assert "Inovações por setor" in page
    assert "2 inovações" in page
    drawings = " ".join(re.findall(r"<svg.*?</svg>", page, re.S))
    assert not re.search(r'(x|y|width|height)="\d+,\d', drawings)


def test_the_list_and_the_map_link_to_the_statistics_keeping_the_filters(client, cases):
    for page in ("/innovations/?country=PT&page=1", "/innovations/map/?country=PT&zoom=3"):
        content = html.unescape(client.get(page).content.decode())
        assert '<a href="/innovations/stats/?country=PT">Statistics</a>' in content
    stats = html.unescape(client.get(f"{STATS}?country=PT").content.decode())
    assert '<a href="/innovations/?country=PT">List</a>' in stats
    assert '<a href="/innovations/map/?country=PT">Map</a>' in stats


@pytest.mark.parametrize("count", [10, 300])
def test_the_query_count_does_not_grow_with_the_data(
    client, make_many, seed, django_assert_max_num_queries, count
):
    make_many(count, year=lambda n: 2000 + n % 20)
    client.get(STATS)  # a process loads the catalogue's index once, after each change
    with django_assert_max_num_queries(2):
        client.get(f"{STATS}?level=local&year_from=2005")
