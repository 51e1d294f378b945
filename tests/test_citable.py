"""A case page tells machines what it is (schema.org JSON-LD) and people how to cite it."""

import json
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from innovations.models import Innovation


@pytest.fixture
def lisbon(make_innovation):
    return make_innovation(
        slug="lisbon",
        title='Lisbon "open" portal </script><script>alert(1)</script>',
        short_explanation="A portal on public spending & contracts.",
        country="PT",
        year=2021,
        sectors=["health"],
        tags=["open-data", "transparency"],
        organisation_name="Lisbon City Council",
        organisation_type="government",
        website="https://www.lisboa.pt/",
    )


def jsonld(html):
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    return json.loads(blocks[0])


def test_the_case_page_carries_parseable_schema_org_json_ld(client, lisbon):
    data = jsonld(client.get("/innovations/lisbon/").content.decode())
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "CreativeWork"
    assert data["name"] == lisbon.title
    assert data["description"] == "A portal on public spending & contracts."
    assert data["url"] == "http://testserver/innovations/lisbon/"
    assert data["spatialCoverage"] == {"@type": "Country", "name": "Portugal", "identifier": "PT"}
    assert data["creator"] == {
        "@type": "GovernmentOrganization",
        "name": "Lisbon City Council",
        "url": "https://www.lisboa.pt/",
    }
    assert data["keywords"] == ["Health", "Open data", "Transparency"]
    assert data["temporalCoverage"] == "2021/.."
    lisbon.refresh_from_db()
    assert data["dateModified"] == lisbon.updated.isoformat()
    assert data["inLanguage"] == "en"


def test_text_in_the_json_ld_cannot_close_its_script(client, lisbon):
    html = client.get("/innovations/lisbon/").content.decode()
    assert "<script>alert(1)</script>" not in html


def test_the_portuguese_page_says_its_language(client, lisbon):
    assert jsonld(client.get("/pt/innovations/lisbon/").content.decode())["inLanguage"] == "pt"


def test_a_case_without_organisation_or_year_leaves_them_out(client, make_innovation):
    make_innovation(slug="bare", year=None)
    data = jsonld(client.get("/innovations/bare/").content.decode())
    assert "creator" not in data and "temporalCoverage" not in data


def test_the_cite_block_gives_title_organisation_catalogue_address_and_date(client, lisbon):
    Innovation.objects.filter(pk=lisbon.pk).update(
        updated=lisbon.updated.replace(year=2026, month=3, day=4)
    )
    html = client.get("/innovations/lisbon/").content.decode()
    citation = re.search(r'<p class="citation">(.*?)</p>', html, re.S).group(1)
    assert unescape(citation) == (
        f"Lisbon City Council. “{lisbon.title}”. Innovation Catalogue. "
        "http://testserver/innovations/lisbon/ (last changed 4 March 2026)."
    )
    assert 'href="/innovations/lisbon.json"' in html


def test_the_case_page_still_makes_two_queries(client, lisbon):
    client.get("/innovations/lisbon/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/innovations/lisbon/")
    assert len(queries) == 2
