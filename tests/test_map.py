"""The map: the list's filtered cases, clustered on the server, and the pages around it."""

import gzip
import itertools
import json
import re
import string

import pytest

from innovations.catalogue import maps
from innovations.models import Country, Innovation

MAP = "/innovations/map/"
DATA = "/innovations/map.json"
WORLD = "-180,-90,180,90"
LISBON = [38.7251, -9.1498]
MADRID = [40.4165, -3.7026]
PARIS = [48.8534, 2.3488]
BRASILIA = [-15.7797, -47.9297]


def map_data(client, query="", bbox=WORLD, zoom=2):
    response = client.get(f"{DATA}?{query}&bbox={bbox}&zoom={zoom}")
    assert response.status_code == 200, response.content
    return response.json()


def list_count(client, query=""):
    return client.get(f"/innovations/?format=json&{query}").json()["count"]


def drawn(data):
    """What the map draws: the bubbles' counts plus one per single case."""
    return sum(cluster[2] for cluster in data["clusters"]) + len(data["points"])


@pytest.fixture
def cases(make_innovation):
    """Cases at their capitals and at places of their own, and one draft."""
    return [
        make_innovation(
            slug="lisbon-a", country="PT", level="local", year=2021, tags=["open-data"]
        ),
        make_innovation(slug="lisbon-b", country="PT", level="national", tags=["chatbots"]),
        make_innovation(
            slug="porto",
            country="PT",
            level="regional",
            year=2019,
            sectors=["health"],
            latitude=41.1579,
            longitude=-8.6291,
        ),
        make_innovation(slug="madrid", country="ES", level="local", year=2018, tags=["open-data"]),
        make_innovation(
            slug="seville", country="ES", level="national", latitude=37.3891, longitude=-5.9845
        ),
        make_innovation(slug="paris", country="FR", level="national", year=2020),
        make_innovation(
            slug="rio",
            country="BR",
            level="local",
            sectors=["health"],
            latitude=-22.9068,
            longitude=-43.1729,
        ),
        make_innovation(
            slug="coimbra-draft",
            country="PT",
            status=Innovation.Status.DRAFT,
            latitude=40.2033,
            longitude=-8.4103,
        ),
    ]


# What a person sees: the counts add up to the list's.


@pytest.mark.parametrize(
    "query",
    [
        "",
        "country=PT",
        "level=local",
        "country=PT,ES&level=national",
        "tag=open-data",
        "sector=health",
        "year_from=2019",
        "q=madrid",
        "country=FR&tag=chatbots",
    ],
)
def test_the_world_map_adds_up_to_the_list_count_at_every_zoom(client, cases, query):
    expected = list_count(client, query)
    for zoom in range(21):
        data = map_data(client, query, zoom=zoom)
        assert drawn(data) == data["count"] == expected, zoom


def test_at_world_zoom_there_is_one_bubble_per_country_at_its_capital(client, cases):
    data = map_data(client, zoom=2)
    assert data["mode"] == "countries"
    assert data["points"] == []
    assert data["clusters"] == [
        [*BRASILIA, 1, "BR"],
        [*MADRID, 2, "ES"],
        [*PARIS, 1, "FR"],
        [*LISBON, 3, "PT"],
    ]


def test_country_bubbles_follow_the_filters(client, cases):
    data = map_data(client, "level=local", zoom=3)
    assert data["clusters"] == [[*BRASILIA, 1, "BR"], [*MADRID, 1, "ES"], [*LISBON, 1, "PT"]]


def test_zoomed_in_the_cases_are_single_and_a_case_without_a_place_sits_at_the_capital(
    client, cases
):
    data = map_data(client, bbox="0,45,5,50", zoom=14)
    assert data == {
        "count": 1,
        "mode": "points",
        "clusters": [],
        "points": [[*PARIS, "paris"]],
        "notices": [],
    }


def test_cases_sharing_a_place_are_one_bubble(client, cases):
    data = map_data(client, bbox="-10,36,-5,42", zoom=14)
    assert data["clusters"] == [[*LISBON, 2]]
    assert sorted(data["points"]) == [
        [37.3891, -5.9845, "seville"],
        [41.1579, -8.6291, "porto"],
    ]


def test_middle_zooms_group_cases_by_grid_cell(client, cases):
    data = map_data(client, "country=PT", bbox="-12,35,-5,43", zoom=6)
    assert data["mode"] == "cells"
    assert data["cell"] == 360 / 2**8
    assert data["clusters"] == [[*LISBON, 2]]
    assert data["points"] == [[41.1579, -8.6291, "porto"]]


def test_a_cell_bubble_sits_at_the_mean_of_its_cases(client, cases):
    data = map_data(client, "country=PT,ES", zoom=5)
    assert data["cell"] == 5.625  # coarser than 64 pixels: the world holds few cells
    assert data["clusters"] == [
        [round((LISBON[0] * 2 + 37.3891) / 3, 4), round((LISBON[1] * 2 - 5.9845) / 3, 4), 3]
    ]
    assert sorted(data["points"]) == [[*MADRID, "madrid"], [41.1579, -8.6291, "porto"]]


def test_a_box_returns_only_what_lies_inside_it(client, cases):
    for zoom in (3, 7, 14):
        data = map_data(client, bbox="-10,36,0,45", zoom=zoom)
        for lat, lng, *_ in data["clusters"] + data["points"]:
            assert 36 <= lat <= 45 and -10 <= lng <= 0, (zoom, lat, lng)
    assert map_data(client, bbox="-10,36,0,45", zoom=3)["clusters"] == [
        [*MADRID, 2, "ES"],
        [*LISBON, 3, "PT"],
    ]
    assert map_data(client, bbox="-10,36,0,45", zoom=14)["count"] == 5
    assert map_data(client, bbox="100,-10,120,10", zoom=14)["count"] == 0


def test_a_box_across_the_antimeridian_is_split(client, make_innovation):
    make_innovation(slug="noumea", country="FR", latitude=-22.2758, longitude=166.4580)
    make_innovation(slug="papeete", country="FR", latitude=-17.5516, longitude=-149.5585)
    make_innovation(slug="paris", country="FR")
    across = map_data(client, bbox="160,-30,-140,0", zoom=14)
    assert sorted(point[2] for point in across["points"]) == ["noumea", "papeete"]
    assert map_data(client, bbox="-140,-30,160,0", zoom=14)["points"] == []
    assert map_data(client, bbox="160,-30,-140,0", zoom=8)["count"] == 2


def test_too_many_single_places_fall_back_to_cells(client, seed):
    portugal = Country.objects.get(code="PT")
    Innovation.objects.bulk_create(
        Innovation(
            slug=f"place-{n}",
            title=f"Place {n}",
            short_explanation="A place.",
            country=portugal,
            level="local",
            status="published",
            latitude=38 + n / 10_000,
            longitude=-9 + n / 10_000,
        )
        for n in range(maps.MAX_POINTS + 1)
    )
    data = map_data(client, bbox="-10,37,-8,40", zoom=16)
    assert data["mode"] == "cells"
    assert len(data["points"]) + len(data["clusters"]) < maps.MAX_POINTS
    assert data["count"] == maps.MAX_POINTS + 1


def test_drafts_never_appear(client, cases):
    assert map_data(client)["count"] == 7
    assert map_data(client, bbox="-8.5,40.1,-8.3,40.3", zoom=14)["count"] == 0
    assert map_data(client, "country=PT", zoom=6)["count"] == 3
    assert client.get("/innovations/coimbra-draft/popup/").status_code == 404
    here = client.get(f"{MAP}cases/?bbox=-8.5,40.1,-8.3,40.3").content.decode()
    assert "0 innovations here" in here
    page = client.get(MAP).content.decode()
    assert "coimbra-draft" not in page
    assert 'data-count="7"' in page


# Bad input: a clear 400, never a 500.


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("bbox=1,2,3", "bbox", "four numbers"),
        ("bbox=1,2,3,4,5", "bbox", "four numbers"),
        ("bbox=a,b,c,d", "bbox", "four numbers"),
        ("bbox=nan,0,1,1", "bbox", "four numbers"),
        ("bbox=0,0,inf,1", "bbox", "four numbers"),
        ("bbox=1e400,0,1,1", "bbox", "four numbers"),
        ("bbox=" + "1" * 10_000, "bbox", "four numbers"),
        ("bbox=1,2,3,4" + ",5" * 5000, "bbox", "four numbers"),
        ("bbox=0,10,1,5", "bbox", "south of bbox must not lie north"),
        ("bbox=0,-91,1,5", "bbox", "between -90 and 90"),
        ("bbox=0,0,1,90.5", "bbox", "between -90 and 90"),
        ("bbox=-181,0,1,1", "bbox", "between -180 and 180"),
        ("bbox=0,0,360,1", "bbox", "between -180 and 180"),
        ("zoom=abc", "zoom", "Enter a whole number."),
        ("zoom=nan", "zoom", "Enter a whole number."),
        ("zoom=2.5", "zoom", "Enter a whole number."),
        ("zoom=1e3", "zoom", "Enter a whole number."),
        ("zoom=" + "9" * 5000, "zoom", "Enter a whole number."),
        ("zoom=-1", "zoom", "greater than or equal to 0"),
        ("zoom=21", "zoom", "less than or equal to 20"),
    ],
)
def test_a_malformed_box_or_zoom_is_a_bad_request(client, seed, query, field, message):
    response = client.get(f"{DATA}?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    [error] = response.json()["errors"][field]
    assert message in error


@pytest.mark.parametrize("query", ["zoom=", "bbox=", "bbox=%20&zoom=3"])
def test_an_empty_box_or_zoom_is_a_bad_request_not_a_default(client, seed, query):
    assert client.get(f"{DATA}?{query}").status_code == 400


def test_both_problems_are_reported_at_once(client, seed):
    errors = client.get(f"{DATA}?bbox=x&zoom=99").json()["errors"]
    assert set(errors) == {"bbox", "zoom"}


def test_without_box_and_zoom_the_answer_is_the_world(client, cases):
    data = client.get(DATA).json()
    assert data["mode"] == "countries"
    assert data["count"] == 7


def test_unknown_filter_values_are_ignored_with_a_notice_as_in_the_list(client, cases):
    data = map_data(client, "country=PT,ZZ")
    assert data["count"] == 3
    assert data["notices"] == ["Country: “ZZ” is not a known value and was ignored."]


def test_map_data_may_be_kept_by_caches_that_check_it_first(client, cases):
    response = client.get(f"{DATA}?zoom=2")
    assert response["Cache-Control"] == "public, no-cache"
    assert response.has_header("ETag")
    repeat = client.get(f"{DATA}?zoom=2", headers={"If-None-Match": response["ETag"]})
    assert repeat.status_code == 304


def test_the_world_view_stays_small_with_every_country(client, seed):
    taken = set(Country.objects.values_list("code", flat=True))
    codes = [
        code
        for code in ("".join(pair) for pair in itertools.product(string.ascii_uppercase, repeat=2))
        if code not in taken
    ][: 249 - len(taken)]
    Country.objects.bulk_create(
        Country(
            code=code,
            name=f"Testland {code}",
            latitude=-60 + n * 0.4837,
            longitude=-179 + n * 1.4378,
        )
        for n, code in enumerate(codes)
    )
    Innovation.objects.bulk_create(
        Innovation(
            slug=f"case-in-{country.code.lower()}-{n}",
            title="A case",
            short_explanation="A case.",
            country=country,
            level="local",
            status="published",
        )
        for country in Country.objects.all()
        for n in range(3)
    )
    response = client.get(f"{DATA}?bbox={WORLD}&zoom=2")
    assert len(response.json()["clusters"]) == Country.objects.count() == 249
    assert len(gzip.compress(response.content)) < 20_000


# Query counts do not grow with the data.


def bulk_cases(make_many, count):
    """`count` published cases spread over the four countries, some with places of their own."""
    countries = list(Country.objects.filter(code__in=["PT", "ES", "FR", "BR"]))
    make_many(
        count,
        country_id=lambda n: countries[n % 4].code,
        latitude=lambda n: (countries[n % 4].latitude + n % 7) if n % 2 else None,
        longitude=lambda n: (countries[n % 4].longitude + n % 5) if n % 2 else None,
    )


@pytest.mark.parametrize("count", [10, 500])
def test_map_page_query_count_is_fixed(client, make_many, django_assert_num_queries, count):
    bulk_cases(make_many, count)
    client.get(MAP)  # the process's index catches up with the changes
    with django_assert_num_queries(1):  # the changes not yet applied: none
        response = client.get(MAP)
    assert f'data-count="{count}"' in response.content.decode()


@pytest.mark.parametrize("count", [10, 500])
def test_filtered_map_page_query_count_is_fixed(
    client, make_many, django_assert_num_queries, count
):
    bulk_cases(make_many, count)
    url = f"{MAP}?country=PT,ES&tag=open-data&level=local"
    client.get(url)  # the process's index catches up with the changes
    with django_assert_num_queries(1):  # the filters' values are checked in the index
        client.get(url)


@pytest.mark.parametrize("count", [10, 500])
@pytest.mark.parametrize(("zoom", "queries"), [(2, 1), (7, 2), (15, 2)])
def test_map_data_makes_a_fixed_number_of_queries(
    client, make_many, django_assert_max_num_queries, count, zoom, queries
):
    bulk_cases(make_many, count)
    url = f"{DATA}?bbox={WORLD}&zoom={zoom}"
    client.get(url)  # the process's index catches up with the changes
    # The changes not yet applied; zoomed in, the slugs of the single cases drawn, if
    # there are any.
    with django_assert_max_num_queries(queries):
        client.get(url)


def test_a_box_without_single_cases_reads_no_slugs(client, make_many, django_assert_num_queries):
    bulk_cases(make_many, 10)
    url = f"{DATA}?bbox=-40,-10,-30,0&zoom=7"  # the middle of the Atlantic
    client.get(url)  # the process's index catches up with the changes
    with django_assert_num_queries(1):
        assert client.get(url).json()["points"] == []


def test_filters_need_no_lookup(client, make_many, django_assert_num_queries):
    bulk_cases(make_many, 10)
    url = f"{DATA}?bbox={WORLD}&zoom=2&country=PT&tag=open-data&level=local"
    client.get(url)  # the process's index catches up with the changes
    with django_assert_num_queries(1):
        client.get(url)


def test_a_bad_request_only_reads_the_catalogues_changes(client, seed, django_assert_num_queries):
    client.get(f"{DATA}?bbox=1,2,3")
    with django_assert_num_queries(1):
        assert client.get(f"{DATA}?bbox=1,2,3").status_code == 400


# The map page: the same view as the list, usable without JavaScript.


def test_the_map_page_has_the_lists_panel_chips_and_count(client, cases):
    page = client.get(f"{MAP}?country=PT&level=local").content.decode()
    assert '<h2 id="result-count" data-count="1">1 innovation</h2>' in page
    assert 'id="country-pt" name="country" value="PT" checked' in page
    assert 'id="level-local" name="level" value="local" checked' in page
    assert "Remove filter Country: Portugal" in page
    assert 'href="?country=PT"' in page


def country_table(page):
    """The table of countries as (link, country, count) rows, then its total."""
    table = page[page.index('<section id="countries"') :]
    table = table[: table.index("</section>")]
    rows = re.findall(r'<a href="([^"]+)">([^<]+)</a></th><td class="number">(\d+)<', table)
    total = re.search(r'Total</th><td class="number">(\d+)<', table).group(1)
    return rows, total


def test_the_table_of_countries_lists_the_same_counts_and_applies_the_filter(client, cases):
    page = client.get(f"{MAP}?level=national").content.decode()
    assert country_table(page) == (
        [
            ("/innovations/?level=national&amp;country=FR", "France", "1"),
            ("/innovations/?level=national&amp;country=PT", "Portugal", "1"),
            ("/innovations/?level=national&amp;country=ES", "Spain", "1"),
        ],
        "3",
    )


def test_the_map_is_a_labelled_region_with_its_data_address(client, cases):
    page = client.get(MAP).content.decode()
    assert '<h2 id="map-heading">Map</h2>' in page
    assert 'role="region" aria-labelledby="map-heading"' in page
    assert 'data-url="/innovations/map.json"' in page
    assert "The map needs JavaScript." in page


def test_list_and_map_link_to_each_other_keeping_the_filters(client, cases):
    page = client.get("/innovations/?country=PT&level=local").content.decode()
    assert 'href="/innovations/map/?country=PT&amp;level=local">Map</a>' in page
    page = client.get(f"{MAP}?country=PT&level=local&lat=38.7&lng=-9.1&zoom=7").content.decode()
    assert 'href="/innovations/?country=PT&amp;level=local">List</a>' in page
    assert 'aria-current="page">Map</a>' in page


def test_the_address_gives_the_maps_centre_and_zoom(client, cases):
    page = client.get(f"{MAP}?lat=38.7&lng=-9.1&zoom=7").content.decode()
    assert '"center": [38.7, -9.1], "zoom": 7' in page


@pytest.mark.parametrize("view", ["lat=91&lng=0&zoom=3", "lat=1&lng=2&zoom=99", "lat=x", "zoom=5"])
def test_a_bad_or_partial_view_gives_the_default_view(client, cases, view):
    page = client.get(f"{MAP}?{view}").content.decode()
    assert '"center": [20.0, 0.0], "zoom": 2' in page


def test_the_view_parameters_are_ignored_silently_by_the_list(client, cases):
    data = client.get("/innovations/?format=json&country=PT&lat=1&lng=2&zoom=3").json()
    assert data["count"] == 3
    assert data["notices"] == []
    assert map_data(client, "country=PT&lat=1&lng=2")["notices"] == []


# Popups, loaded when opened.


def test_a_case_popup_shows_title_explanation_country_year_and_link(client, cases):
    response = client.get("/innovations/lisbon-a/popup/")
    page = response.content.decode()
    assert '<h3><a href="/innovations/lisbon-a/">Case' in page
    assert "Short explanation of case" in page
    assert "Portugal · Launched 2021" in page
    assert "<html" not in page
    assert response["Cache-Control"] == "public, no-cache"


def test_a_bubble_of_cases_at_one_place_lists_them(client, cases):
    page = client.get(f"{MAP}cases/?bbox=-9.2,38.7,-9.1,38.8").content.decode()
    assert "2 innovations here" in page
    assert 'href="/innovations/lisbon-a/"' in page
    assert 'href="/innovations/lisbon-b/"' in page


def test_the_cases_popup_follows_the_filters(client, cases):
    page = client.get(f"{MAP}cases/?bbox=-9.2,38.7,-9.1,38.8&tag=chatbots").content.decode()
    assert "1 innovation here" in page
    assert "lisbon-a" not in page


def test_a_big_bubble_lists_the_first_cases_and_how_many_more(client, make_innovation):
    for n in range(maps.POPUP_CASES + 2):
        make_innovation(title=f"Lisbon case {n:02}", country="PT")
    page = client.get(f"{MAP}cases/?bbox=-9.2,38.7,-9.1,38.8").content.decode()
    assert f"{maps.POPUP_CASES + 2} innovations here" in page
    assert f"Lisbon case {maps.POPUP_CASES - 1:02}" in page
    assert f"Lisbon case {maps.POPUP_CASES:02}" not in page
    assert "and 2 more" in page


def test_a_bubbles_link_to_the_list_keeps_the_filters_and_nothing_of_the_map(
    client, make_innovation
):
    for n in range(maps.POPUP_CASES + 1):
        make_innovation(title=f"Lisbon case {n:02}", country="PT", level="local")
    query = "bbox=-20,30,40,70&level=local&zoom=3&lat=1&lng=2&page=3&format=json"
    page = client.get(f"{MAP}cases/?{query}").content.decode()
    assert 'href="/innovations/?bbox=-20%2C30%2C40%2C70&amp;level=local"' in page


# The case page and the editors' picker.


def test_the_case_page_shows_its_place_on_a_small_map(client, cases):
    page = client.get("/innovations/porto/").content.decode()
    assert 'id="case-map"' in page
    assert 'data-lat="41.1579" data-lng="-8.6291"' in page
    assert "At latitude 41.1579, longitude -8.6291." in page


def test_a_case_without_a_place_is_shown_at_the_capital(client, cases):
    page = client.get("/pt/innovations/lisbon-a/").content.decode()
    assert 'data-lat="38.7251" data-lng="-9.1498"' in page
    assert "Lisbon" in page


def test_editors_get_a_map_picker_beside_the_coordinates(editor_client, cases):
    page = editor_client.get(
        f"/admin/innovations/innovation/{cases[2].pk}/change/"
    ).content.decode()
    assert 'name="longitude" value="-8.6291"' in page
    assert 'class="location-picker-map"' in page
    assert 'data-latitude="latitude" data-longitude="longitude"' in page
    assert "leaflet/leaflet.js" in page
    assert "js/location_picker.js" in page


def test_the_picker_leaves_the_coordinates_editable_by_hand(editor_client, cases):
    porto = cases[2]
    form = {
        "title": porto.title,
        "slug": porto.slug,
        "short_explanation": porto.short_explanation,
        "status": "published",
        "country": "PT",
        "level": "regional",
        "sectors": [porto.sectors.get().pk],
        "latitude": "41.15",
        "longitude": "-8.61",
    }
    response = editor_client.post(f"/admin/innovations/innovation/{porto.pk}/change/", form)
    assert response.status_code == 302
    porto.refresh_from_db()
    assert (porto.latitude, porto.longitude) == (41.15, -8.61)
    assert json.loads(editor_client.get(f"{DATA}?bbox=-9,41,-8,42&zoom=14").content)["points"] == [
        [41.15, -8.61, "porto"]
    ]


@pytest.mark.parametrize("zoom", [3, 8, 14])
@pytest.mark.parametrize(("area", "count"), [("-10,36,0,45", 5), ("-9,40,-8,42", 1)])
def test_under_an_area_the_map_and_the_list_count_alike(client, cases, zoom, area, count):
    assert map_data(client, bbox=area, zoom=zoom)["count"] == list_count(client, f"bbox={area}")
    assert list_count(client, f"bbox={area}") == count


def test_a_country_whose_capital_is_outside_the_box_is_drawn_where_its_cases_are(client, cases):
    # Porto lies in the box; Lisbon, the capital, does not.
    data = map_data(client, bbox="-9,40,-8,42", zoom=3)
    assert data["clusters"] == [[41.1579, -8.6291, 1, "PT"]]
    assert data["count"] == 1


def test_across_the_antimeridian_a_countrys_bubble_stays_in_the_box(client, make_innovation):
    make_innovation(slug="noumea", country="FR", latitude=-22.2758, longitude=166.4580)
    make_innovation(slug="papeete", country="FR", latitude=-17.5516, longitude=-149.5585)
    make_innovation(slug="paris", country="FR")
    data = map_data(client, bbox="160,-30,-140,0", zoom=2)
    assert data["clusters"] == [
        [-19.9137, round((166.4580 - 149.5585 + 360) / 2 - 360, 4), 2, "FR"]
    ]
