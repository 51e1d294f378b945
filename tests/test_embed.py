"""The list and map pages offer their view as files and as a page other sites can embed."""

import re
from html import unescape

import pytest

from innovations.models import Innovation


@pytest.fixture
def cases(make_innovation):
    return [
        make_innovation(slug="lisbon", title="Lisbon portal", country="PT", sectors=["health"]),
        make_innovation(slug="porto", title="Porto card", country="PT", year=2020),
        make_innovation(slug="madrid", title="Madrid lab", country="ES"),
        make_innovation(slug="hidden", title="Hidden draft", country="PT", status="draft"),
    ]


def links(html):
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', html)]


@pytest.mark.parametrize("view", ["/innovations/", "/innovations/map/"])
def test_the_download_block_counts_and_links_every_format_of_the_view(client, cases, view):
    html = client.get(f"{view}?country=PT&page=1&zoom=4").content.decode()
    assert "Download these 2 cases:" in html
    hrefs = links(html)
    for url in [
        "/innovations/export.csv?country=PT",
        "/innovations/export.json?country=PT",
        "/innovations/export.geojson?country=PT",
        "/innovations/feed.atom?country=PT",
    ]:
        assert url in hrefs


def test_the_download_links_give_the_cases_the_page_shows(client, cases):
    html = client.get("/innovations/?country=PT&sort=title").content.decode()
    csv_url = next(href for href in links(html) if "export.csv" in href)
    text = b"".join(client.get(csv_url).streaming_content).decode()
    assert [line.split(",")[0] for line in text.splitlines()[1:]] == ["lisbon", "porto"]


def test_large_counts_are_written_with_separators(client, make_many):
    make_many(1436)
    assert "Download these 1,436 cases:" in client.get("/innovations/").content.decode()


@pytest.mark.parametrize(
    ("view", "embed"),
    [("/innovations/", "/embed/list/"), ("/innovations/map/", "/embed/map/")],
)
def test_the_page_offers_a_snippet_to_embed_the_same_view(client, cases, view, embed):
    html = unescape(client.get(f"{view}?country=PT").content.decode())
    assert f'<iframe src="http://testserver{embed}?country=PT"' in html


def test_the_embedded_list_shows_the_views_cases_and_links_back(client, cases):
    response = client.get("/embed/list/?country=PT&sort=title")
    html = response.content.decode()
    assert re.findall(r"<li>\s*<a[^>]*>([^<]+)</a>", html) == ["Lisbon portal", "Porto card"]
    assert "Hidden draft" not in html
    assert "/innovations/?country=PT&amp;sort=title" in html


def test_the_embedded_map_draws_the_view(client, cases):
    html = client.get("/pt/embed/map/?country=PT").content.decode()
    assert 'id="catalogue-map"' in html
    assert 'data-count="2"' in html
    assert "js/map.js" in html


def content_security_policy(response):
    """The response's policy as {directive: its sources}."""
    parts = response["Content-Security-Policy"].split("; ")
    return dict(part.split(" ", 1) for part in parts)


@pytest.mark.parametrize("url", ["/embed/list/", "/embed/map/", "/pt/embed/list/?country=PT"])
def test_embeds_may_be_framed_by_any_site(client, cases, url):
    response = client.get(url)
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    policy = content_security_policy(response)
    assert policy["frame-ancestors"] == "*"


@pytest.mark.parametrize("url", ["/embed/list/", "/embed/map/"])
def test_embeds_keep_the_sites_policy_for_scripts_and_sources(client, cases, url):
    response = client.get(url)
    policy = content_security_policy(response)
    nonce = re.search(r"'nonce-([^']+)'", policy["script-src"])
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'self'"
    # Every inline script that runs carries the nonce that the policy names (data in
    # <script type="application/json"> does not run).
    tags = re.findall(r"<script([^>]*)>", response.content.decode())
    inline = [tag for tag in tags if "src=" not in tag and "application/json" not in tag]
    assert all(f'nonce="{nonce.group(1)}"' in attributes for attributes in inline)


@pytest.mark.parametrize(
    "url", ["/innovations/", "/innovations/map/", "/innovations/lisbon/", "/innovations/submit/"]
)
def test_every_other_page_refuses_to_be_framed(client, cases, url):
    response = client.get(url)
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors *" not in response.get("Content-Security-Policy", "")


def test_embeds_ignore_bad_filters_with_a_page_all_the_same(client, cases):
    response = client.get("/embed/list/?country=zz&year_from=soon&tag=%00")
    assert response.status_code == 200
    assert Innovation.objects.published().count() == 3


def test_the_portuguese_pages_offer_the_files_in_portuguese(client, make_many):
    make_many(1436)
    html = client.get("/pt/innovations/").content.decode()
    assert "Transferir estes 1.436 casos:" in html
    assert "Mostrar esta vista no seu sítio" in html
