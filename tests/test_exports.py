"""Open data: any view of the list as CSV, JSON, GeoJSON or Atom, and each case as JSON."""

import csv
import io
import json
import random
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from innovations import csvfile
from innovations.catalogue import exports
from innovations.models import SECTION_FIELDS, Innovation

LIST = "/innovations/"
ATOM = "{http://www.w3.org/2005/Atom}"


def body(response):
    return (
        b"".join(response.streaming_content).decode()
        if response.streaming
        else (response.content.decode())
    )


def export(client, format, query="", **headers):
    response = client.get(f"{LIST}export.{format}?{query}", headers=headers)
    return response, body(response)


def csv_rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def list_slugs(client, query=""):
    first = client.get(f"{LIST}?format=json&{query}").json()
    slugs = [row["slug"] for row in first["results"]]
    for page in range(2, first["pages"] + 1):
        rows = client.get(f"{LIST}?format=json&page={page}&{query}").json()["results"]
        slugs += [row["slug"] for row in rows]
    return slugs


@pytest.fixture
def catalogue(make_innovation):
    """Published cases that differ on every facet, and one of each unpublished status."""
    cases = {
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
            latitude=38.7223,
            longitude=-9.1393,
            organisation_name="Lisbon City Council",
            overview="How it began.",
            lessons="Start small.",
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
            sectors=["health"],
        ),
    }
    for status in ("draft", "submitted", "returned", "archived"):
        make_innovation(slug=f"hidden-{status}", title=f"Hidden {status}", status=status)
    return cases


FORMATS = ["csv", "json", "geojson"]


def slugs_in(format, text):
    if format == "csv":
        return [row["slug"] for row in csv_rows(text)]
    if format == "json":
        return [row["slug"] for row in json.loads(text)["results"]]
    if format == "geojson":
        return [feature["properties"]["slug"] for feature in json.loads(text)["features"]]
    root = ET.fromstring(text)
    return [
        entry.find(f"{ATOM}link").get("href").rstrip("/").rsplit("/", 1)[1]
        for entry in root.iter(f"{ATOM}entry")
    ]


# The list's cases, in the list's order, in every format.


@pytest.mark.parametrize("format", FORMATS)
def test_an_export_holds_the_lists_cases_in_the_lists_order(client, catalogue, format):
    for query in ["", "country=PT", "sector=health&sort=title", "tag=open-data,chatbots"]:
        _response, text = export(client, format, query)
        assert slugs_in(format, text) == list_slugs(client, query)


def test_twenty_random_views_count_the_same_in_every_format(client, catalogue):
    choices = {
        "country": ["PT", "ES", "BR", "FR", "xx"],
        "level": ["local", "national", "regional"],
        "sector": ["health", "education"],
        "tag": ["open-data", "chatbots", "transparency"],
        "year_from": ["2010", "2016", "2020", "soon"],
        "sort": ["title", "added", "newest"],
    }
    pick = random.Random(15)
    for _ in range(20):
        chosen = pick.sample(sorted(choices), pick.randint(0, 3))
        query = "&".join(f"{name}={pick.choice(choices[name])}" for name in chosen)
        expected = list_slugs(client, query)
        for format in [*FORMATS, "atom"]:
            _response, text = export(client, format, query)
            found = slugs_in(format, text)
            if format == "atom":
                assert sorted(found) == sorted(expected), query
            else:
                assert found == expected, (format, query)


@pytest.mark.parametrize("format", [*FORMATS, "atom"])
def test_nothing_unpublished_appears_in_any_format(client, catalogue, format):
    _response, text = export(client, format)
    assert "hidden" not in text.lower()
    assert sorted(slugs_in(format, text)) == ["brasil", "lisbon", "madrid", "porto"]


def test_a_case_unpublished_after_the_index_was_read_is_left_out(client, catalogue):
    client.get(LIST)  # the index is loaded
    Innovation.objects.filter(slug="madrid").update(status="archived")
    _response, text = export(client, "csv")
    assert "madrid" not in [row["slug"] for row in csv_rows(text)]


# CSV


def test_csv_has_the_case_files_columns_and_terms_joined_by_bars(client, catalogue):
    _response, text = export(client, "csv", "country=PT&sort=title")
    assert next(csv.reader(io.StringIO(text))) == list(csvfile.COLUMNS)
    lisbon = csv_rows(text)[0]
    assert lisbon["slug"] == "lisbon"
    assert lisbon["tags"] == "open-data|transparency"
    assert lisbon["country"] == "PT"
    assert lisbon["lessons"] == "Start small."
    assert lisbon["latitude"] == "38.7223"


def test_csv_is_exactly_what_the_editors_export_writes(client, catalogue):
    out = io.StringIO()
    call_command("export_cases", "-", stdout=out)
    published = [row for row in csv_rows(out.getvalue()) if row["status"] == "published"]
    _response, text = export(client, "csv", "sort=title")
    by_slug = {row["slug"]: row for row in published}
    assert csv_rows(text) == [by_slug[row["slug"]] for row in csv_rows(text)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_csv_export_imports_into_a_fresh_database(client, catalogue, tmp_path):
    _response, text = export(client, "csv")
    before = {
        case.slug: (case.title, case.lessons, case.latitude, sorted(case.tags.values_list("slug")))
        for case in Innovation.objects.published()
    }
    Innovation.objects.all().delete()
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8", newline="")
    out = io.StringIO()
    call_command("import_cases", str(path), stdout=out)
    assert out.getvalue().strip() == "Created 4, updated 0, unchanged 0."
    after = {
        case.slug: (case.title, case.lessons, case.latitude, sorted(case.tags.values_list("slug")))
        for case in Innovation.objects.all()
    }
    assert after == before


# Texts a cell may hold: any text PostgreSQL stores, short ones made of what the formula
# marks, the numbers and the CSV quoting rules look at, ones that begin like a formula,
# a number or a text already marked, and numbers.
SPECIAL = "=+-@'\t\r\n\",.0123456789eE x\\"
cell_texts = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40),
    st.text(SPECIAL, max_size=12),
    st.tuples(
        st.sampled_from(["", "'", "''"]), st.sampled_from("=+-@\t\r.1"), st.text(SPECIAL)
    ).map("".join),
    st.floats(allow_nan=False, allow_infinity=False).map(str),
    st.integers().map(str),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    texts=st.fixed_dictionaries(
        {name: cell_texts for name in ["title", "organisation_name", "overview", "lessons"]}
    ),
    location=st.none() | st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
    year=st.none() | st.integers(1900, 2027),
    tags=st.lists(st.sampled_from(["open-data", "transparency"]), unique=True),
    is_synthetic=st.booleans(),
)
def test_postgresql_writes_every_cell_as_the_editors_export_does(
    client, make_innovation, texts, location, year, tags, is_synthetic
):
    Innovation.objects.all().delete()
    latitude, longitude = location or (None, None)
    make_innovation(
        slug="random",
        **texts,
        latitude=latitude,
        longitude=longitude,
        year=year,
        tags=tags,
        is_synthetic=is_synthetic,
    )
    out = io.StringIO()
    call_command("export_cases", "-", stdout=out)
    _response, text = export(client, "csv")
    assert csv_rows(text) == csv_rows(out.getvalue())


def test_csv_marks_the_cells_a_spreadsheet_would_run_and_leaves_numbers(client, make_innovation):
    make_innovation(
        slug="tricky",
        title="-2+3 title",
        organisation_name='=HYPERLINK("http://x")',
        lessons="'=quoted",
        overview="@SUM(A1)",
        latitude=-33.5,
        longitude=-70.25,
        tags=["open-data"],
    )
    _response, text = export(client, "csv")
    (row,) = csv_rows(text)
    assert row["title"] == "'-2+3 title"
    assert row["organisation_name"] == '\'=HYPERLINK("http://x")'
    assert row["lessons"] == "''=quoted"
    assert row["overview"] == "'@SUM(A1)"
    assert (row["latitude"], row["longitude"], row["tags"]) == ("-33.5", "-70.25", "open-data")


def test_the_csv_header_is_sent_before_the_cases_are_read(client, catalogue):
    client.get(LIST)  # the index is loaded
    response = client.get(f"{LIST}export.csv")
    chunks = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as queries:
        first = next(chunks).decode()
    assert first == csvfile.header()
    assert len(queries) == 0
    assert len(csv_rows(first + b"".join(chunks).decode())) == 4


def test_an_export_of_a_thousand_and_more_cases_streams_every_one_once(client, make_many):
    make_many(exports.CHUNK * 2 + 7, title=lambda n: f"Bulk {n:05d}")
    response, text = export(client, "csv", "sort=title")
    assert response.streaming
    rows = csv_rows(text)
    assert [row["title"] for row in rows] == [f"Bulk {n:05d}" for n in range(len(rows))]
    assert len(rows) == exports.CHUNK * 2 + 7
    assert text.count("slug,title,status") == 1


# JSON


def test_json_has_every_section_and_term(client, catalogue):
    _response, text = export(client, "json", "country=PT&sort=title")
    lisbon = json.loads(text)["results"][0]
    assert lisbon["slug"] == "lisbon"
    assert lisbon["url"] == "http://testserver/innovations/lisbon/"
    assert set(lisbon["sections"]) == set(SECTION_FIELDS)
    assert lisbon["sections"]["overview"] == "How it began."
    assert lisbon["tags"] == [
        {"slug": "open-data", "name": "Open data"},
        {"slug": "transparency", "name": "Transparency"},
    ]
    assert lisbon["recognitions"] == [{"slug": "award-winner", "name": "Award winner"}]
    assert lisbon["country"] == {"code": "PT", "name": "Portugal"}
    assert lisbon["organisation"]["name"] == "Lisbon City Council"
    assert (lisbon["latitude"], lisbon["longitude"], lisbon["location"]) == (
        38.7223,
        -9.1393,
        "own",
    )


def test_json_notices_say_what_was_ignored(client, catalogue):
    _response, text = export(client, "json", "country=zz&year_from=soon")
    data = json.loads(text)
    assert data["count"] == 4
    assert len(data["notices"]) == 2


# GeoJSON


def assert_rfc7946_feature_collection(data):
    assert data["type"] == "FeatureCollection"
    assert isinstance(data["features"], list)
    for feature in data["features"]:
        assert feature["type"] == "Feature"
        assert isinstance(feature["properties"], dict)
        geometry = feature["geometry"]
        assert geometry["type"] == "Point"
        longitude, latitude = geometry["coordinates"]
        assert -180 <= longitude <= 180 and -90 <= latitude <= 90
        assert isinstance(feature["id"], str | int)
    # Members that RFC 7946 reserves are never used as foreign members.
    assert not {"coordinates", "geometry", "properties", "crs"} & set(data)


def test_geojson_is_a_feature_collection_of_points(client, catalogue):
    _response, text = export(client, "geojson", "sort=title")
    data = json.loads(text)
    assert_rfc7946_feature_collection(data)
    features = {feature["properties"]["slug"]: feature for feature in data["features"]}
    assert features["lisbon"]["geometry"]["coordinates"] == [-9.1393, 38.7223]
    assert features["lisbon"]["properties"]["location"] == "own"
    # Madrid has no location of its own: it is placed at its country's capital.
    assert features["madrid"]["properties"]["location"] == "capital"
    spain = catalogue["madrid"].country
    assert features["madrid"]["geometry"]["coordinates"] == [spain.longitude, spain.latitude]
    assert features["brasil"]["properties"]["tags"] == ["chatbots"]


# Stamps, names and bad input


@pytest.mark.parametrize("format", FORMATS)
def test_every_export_is_stamped_with_the_catalogue_version_and_time(client, catalogue, format):
    response, text = export(client, format)
    version = response["Catalogue-Version"]
    assert version.isdigit()
    taken = response["Exported-At"]
    assert abs(timezone.now() - timezone.datetime.fromisoformat(taken)) < timedelta(minutes=1)
    if format != "csv":
        data = json.loads(text)
        assert (str(data["catalogue_version"]), data["exported_at"]) == (version, taken)


def test_files_are_named_after_the_view_and_the_day(client, catalogue):
    response, _text = export(client, "csv", "country=PT&sector=health")
    today = timezone.now().date().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="innovations-pt-health-{today}.csv"'
    )
    response, _text = export(client, "geojson")
    assert f'filename="innovations-{today}.geojson"' in response["Content-Disposition"]


@pytest.mark.parametrize("format", FORMATS)
def test_an_export_of_no_cases_is_a_valid_empty_file(client, catalogue, format):
    response, text = export(client, format, "country=FR")
    assert response.status_code == 200
    assert slugs_in(format, text) == []
    if format == "csv":
        assert text == csvfile.header()


def test_an_unknown_format_is_a_400_naming_the_accepted_ones(client, catalogue):
    response, text = export(client, "xlsx")
    assert response.status_code == 400
    assert "xlsx" in text
    for format in ["csv", "json", "geojson", "atom"]:
        assert format in text


@pytest.mark.parametrize(
    "query",
    [
        "country=%00&tag=" + "x," * 500,
        "year_from=-1&year_to=99999999999999999999",
        "q=" + "(" * 300,
        "sort=drop table&level=<script>",
    ],
)
@pytest.mark.parametrize("format", [*FORMATS, "atom"])
def test_hostile_query_strings_never_fail(client, catalogue, format, query):
    response, _text = export(client, format, query)
    assert response.status_code == 200


@pytest.mark.parametrize("format", FORMATS)
def test_other_sites_may_read_exports(client, catalogue, format):
    response, _text = export(client, format)
    assert response["Access-Control-Allow-Origin"] == "*"


# Each case as JSON


@pytest.mark.parametrize("url", ["/innovations/lisbon.json", "/pt/innovations/lisbon.json"])
def test_a_case_as_json_has_every_section_and_term(client, catalogue, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    data = response.json()
    assert data["slug"] == "lisbon"
    assert data["sections"]["lessons"] == "Start small."
    assert [tag["slug"] for tag in data["tags"]] == ["open-data", "transparency"]
    listed = client.get(url.replace("lisbon.json", "export.json?country=PT&sort=title"))
    assert data == json.loads(body(listed))["results"][0]


def test_an_unpublished_case_has_no_json(client, catalogue):
    for url in ("/innovations/hidden-draft.json", "/pt/innovations/no-such-case.json"):
        response = client.get(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"]


def test_a_cases_json_is_cached_as_its_page(client, catalogue, django_assert_num_queries):
    first = client.get("/innovations/lisbon.json")
    assert first["Cache-Control"] == "public, no-cache"
    with django_assert_num_queries(1):
        repeat = client.get("/innovations/lisbon.json", headers={"If-None-Match": first["ETag"]})
    assert repeat.status_code == 304
    Innovation.objects.filter(slug="lisbon").update(title="Lisbon, renewed")
    changed = client.get("/innovations/lisbon.json", headers={"If-None-Match": first["ETag"]})
    assert changed.json()["title"] == "Lisbon, renewed"


# Atom


def test_atom_parses_and_lists_the_newest_published_cases_first(client, catalogue):
    for number, slug in enumerate(["porto", "lisbon", "brasil", "madrid"]):
        Innovation.objects.filter(slug=slug).update(created=timezone.now() - timedelta(days=number))
    response = client.get(f"{LIST}feed.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert slugs_in("atom", body(response)) == ["porto", "lisbon", "brasil", "madrid"]


def test_atom_holds_the_newest_fifty(client, make_many):
    make_many(60, created=lambda n: timezone.now() - timedelta(hours=n))
    Innovation.objects.update(created=timezone.now())  # auto_now_add ignores the given time
    for n in range(60):
        Innovation.objects.filter(slug=f"bulk-{n}").update(
            created=timezone.now() - timedelta(hours=n)
        )
    slugs = slugs_in("atom", body(client.get(f"{LIST}feed.atom")))
    assert slugs == [f"bulk-{n}" for n in range(50)]


def test_atom_answers_304_to_a_reader_that_has_it(client, catalogue):
    first = client.get(f"{LIST}feed.atom?country=PT")
    # Caches may keep the feed, but must ask each time whether it is still current.
    assert first["Cache-Control"] == "public, no-cache"
    etag, modified = first["ETag"], first["Last-Modified"]
    assert (
        client.get(f"{LIST}feed.atom?country=PT", headers={"If-None-Match": etag}).status_code
        == 304
    )
    again = client.get(f"{LIST}feed.atom?country=PT", headers={"If-Modified-Since": modified})
    assert again.status_code == 304
    # Another view, or a change to the catalogue, is a new feed.
    other = client.get(f"{LIST}feed.atom?country=ES", headers={"If-None-Match": etag})
    assert other.status_code == 200
    Innovation.objects.filter(slug="porto").update(title="Porto card, renewed")
    changed = client.get(f"{LIST}feed.atom?country=PT", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert "Porto card, renewed" in body(changed)


def test_the_feed_is_also_the_atom_export(client, catalogue):
    assert body(client.get(f"{LIST}export.atom?country=PT")) == body(
        client.get(f"{LIST}feed.atom?country=PT")
    )


@pytest.mark.parametrize(
    "url",
    [
        "/innovations/?format=json",
        "/innovations/map.json?bbox=-180,-90,180,90&zoom=2",
        "/innovations/lisbon.json",
        "/innovations/export.geojson",
    ],
)
def test_data_answers_may_be_read_by_other_sites(client, catalogue, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Catalogue-Version" in response["Access-Control-Expose-Headers"]


@pytest.mark.parametrize(
    "url",
    [
        "/innovations/?format=json",
        "/innovations/map.json?bbox=-180,-90,180,90&zoom=2",
        "/innovations/lisbon.json",
    ],
)
def test_other_sites_may_ask_whether_their_copy_is_current(client, catalogue, url):
    # A script on another site that sends If-None-Match is checked by a preflight first.
    preflight = client.options(
        url,
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in preflight["Access-Control-Allow-Headers"]
    first = client.get(url, headers={"Origin": "https://example.org"})
    repeat = client.get(
        url, headers={"Origin": "https://example.org", "If-None-Match": first["ETag"]}
    )
    assert repeat.status_code == 304
    assert repeat["Access-Control-Allow-Origin"] == "*"


def test_the_admin_answers_no_preflight(client, catalogue):
    response = client.options(
        "/admin/", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"}
    )
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.parametrize("url", ["/innovations/", "/innovations/lisbon/", "/innovations/submit/"])
def test_pages_stay_same_origin(client, catalogue, url):
    assert "Access-Control-Allow-Origin" not in client.get(url)


def test_an_export_reads_its_cases_with_one_query_a_chunk(client, make_many):
    make_many(exports.CHUNK * 2 + 7)
    client.get(LIST)  # the index is loaded
    with CaptureQueriesContext(connection) as queries:
        _response, text = export(client, "json")
    assert len(json.loads(text)["results"]) == exports.CHUNK * 2 + 7
    assert len(queries) == 1 + 3  # the catalogue version, then three chunks
