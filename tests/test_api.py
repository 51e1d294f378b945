"""The API is described in OpenAPI 3.1, explained on /api/, and keeps its promises."""

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate

from innovations import openapi
from innovations.catalogue import maps
from innovations.catalogue.filters import InnovationFilter
from innovations.models import Innovation

DOCUMENT = "/api/openapi.json"


def test_the_document_is_valid_openapi_3_1(client, db):
    response = client.get(DOCUMENT)
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_the_documented_filters_are_the_filtersets(client, db):
    document = client.get(DOCUMENT).json()
    assert set(openapi.FILTER_NAMES) == set(InnovationFilter.base_filters)
    for path in ["/innovations/", "/innovations/export.csv", "/innovations/feed.atom"]:
        names = {parameter["name"] for parameter in document["paths"][path]["get"]["parameters"]}
        assert set(InnovationFilter.base_filters) <= names


def test_the_documented_values_are_the_filtersets(db):
    documented = {parameter["name"]: parameter for parameter in openapi.FILTERS}
    sorts = [key for key, _label in InnovationFilter.base_filters["sort"].extra["choices"]]
    assert documented["sort"]["schema"]["examples"] == sorts
    for level in Innovation.Level.values:
        assert f"`{level}`" in documented["level"]["description"]
    # The multi-valued filters are documented as repeatable, and say that commas work too.
    for name, parameter in documented.items():
        many = InnovationFilter.base_filters[name].field_class.__name__.startswith("Lenient")
        assert (parameter["schema"]["type"] == "array") == many, name
        if many:
            assert parameter["explode"] is True
            assert f"{name}=a,b" in parameter["description"]


def test_the_document_covers_every_public_answer(client, db):
    paths = set(client.get(DOCUMENT).json()["paths"])
    assert paths == {
        "/innovations/",
        "/innovations/{slug}.json",
        "/innovations/map.json",
        "/innovations/export.csv",
        "/innovations/export.json",
        "/innovations/export.geojson",
        "/innovations/feed.atom",
    }


@pytest.mark.parametrize("url", ["/api/", "/pt/api/"])
def test_the_api_page_explains_every_filter_with_examples(client, db, url):
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    parameters = re.search(r'<table class="api-table" id="parameters">.*?</table>', html, re.S)
    for name in openapi.FILTER_NAMES:
        assert f"<code>{name}</code>" in parameters.group()
    assert "/innovations/export.csv?country=PT&amp;sector=health" in html
    assert "/api/openapi.json" in html


def test_the_api_page_runs_no_third_party_script(client, db):
    html = client.get("/api/").content.decode()
    sources = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert all(source.startswith("/") for source in sources)
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert styles and all(style.startswith("/") for style in styles)


# schemathesis: requests generated from the document, against a live server, with every
# default check (no 5xx, answers match their schemas, content types and headers).


@pytest.fixture
def live_catalogue(live_server, transactional_db, make_innovation):
    make_innovation(
        slug="lisbon",
        country="PT",
        level="local",
        year=2021,
        sectors=["health"],
        tags=["open-data"],
        latitude=38.72,
        longitude=-9.14,
    )
    make_innovation(slug="madrid", country="ES", year=2018, tags=["chatbots"])
    make_innovation(slug="draft", status="draft")
    return schemathesis.openapi.from_url(f"{live_server.url}{DOCUMENT}")


def is_box_upside_down(case, response):
    """The one rule of map.json that JSON Schema cannot state: a bbox's south must not lie
    north of its north. Such a box fits the document and is refused with that error."""
    if case.path != "/innovations/map.json" or response.status_code != 400:
        return False
    try:
        west, south, east, north = (float(part) for part in case.query["bbox"].split(","))
    except (KeyError, AttributeError, ValueError):
        return False
    in_range = all(-180 <= x <= 180 for x in (west, east)) and all(
        -90 <= y <= 90 for y in (south, north)
    )
    upside_down = {"errors": {"bbox": [maps.BBoxField.default_error_messages["order"]]}}
    return in_range and south > north and response.json() == upside_down


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode))
def test_the_api_keeps_the_documents_promises(live_catalogue, mode):
    @given(case=live_catalogue.as_strategy(generation_mode=mode))
    @settings(
        max_examples=300,
        derandomize=True,  # the same examples on every run, so CI is repeatable
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def call(case):
        response = case.call()
        if is_box_upside_down(case, response):
            return
        case.validate_response(response)

    call()
