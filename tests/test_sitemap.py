"""Search engines find every published case, in both languages, and nothing else."""

import re
import xml.etree.ElementTree as ET

import pytest

from innovations import api

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


@pytest.fixture
def cases(make_innovation):
    for slug in ["lisbon", "madrid"]:
        make_innovation(slug=slug)
    for status in ["draft", "submitted", "returned", "archived"]:
        make_innovation(slug=f"hidden-{status}", status=status)


def sitemap_urls(client):
    """Every <url> of every section the index lists: {address: {hreflang: address}}."""
    index = ET.fromstring(client.get("/sitemap.xml").content)
    found = {}
    for loc in index.findall("s:sitemap/s:loc", NS):
        path = loc.text.removeprefix("http://testserver")
        section = client.get(path)
        assert section.status_code == 200
        for url in ET.fromstring(section.content).findall("s:url", NS):
            found[url.find("s:loc", NS).text] = {
                link.get("hreflang"): link.get("href") for link in url.findall("x:link", NS)
            }
    return found


def test_the_sitemap_lists_each_published_case_in_both_languages(client, cases):
    urls = sitemap_urls(client)
    assert urls["http://testserver/innovations/lisbon/"] == {
        "en": "http://testserver/innovations/lisbon/",
        "pt": "http://testserver/pt/innovations/lisbon/",
        "x-default": "http://testserver/innovations/lisbon/",
    }
    assert "http://testserver/pt/innovations/madrid/" in urls


@pytest.mark.parametrize("url", ["/sitemap.xml", "/sitemap-cases.xml", "/sitemap-pages.xml"])
def test_caches_must_check_that_a_sitemap_is_current(client, cases, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, no-cache"
    assert client.post(url).status_code == 405


def test_the_sitemap_lists_only_published_cases(client, cases):
    cases_listed = {
        re.search(r"/innovations/([^/]+)/$", url).group(1)
        for url in sitemap_urls(client)
        if re.search(r"/innovations/[^/]+/$", url)
    }
    assert cases_listed == {"lisbon", "madrid", "map"}


def test_the_sitemap_lists_the_list_in_both_languages(client, cases):
    urls = sitemap_urls(client)
    assert urls["http://testserver/innovations/"]["pt"] == "http://testserver/pt/innovations/"
    assert "http://testserver/pt/api/" in urls


def test_a_large_catalogue_is_split_into_pages(client, make_many, monkeypatch):
    monkeypatch.setattr(api.CaseSitemap, "limit", 10)
    make_many(25)
    index = client.get("/sitemap.xml").content.decode()
    assert index.count("sitemap-cases.xml") == 5  # 25 cases in two languages, 10 a page
    assert len([url for url in sitemap_urls(client) if "/bulk-" in url]) == 50


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_out_of_heavy_paths(client, db):
    response = client.get("/robots.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    for path in ["/admin/", "/embed/", "/pt/embed/", "/innovations/export."]:
        assert f"Disallow: {path}" in lines
    assert "Disallow: /innovations/" not in lines


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("/innovations/lisbon/", "http://testserver/innovations/lisbon/"),
        ("/pt/innovations/lisbon/", "http://testserver/pt/innovations/lisbon/"),
        ("/innovations/?country=PT&page=1", "http://testserver/innovations/"),
        ("/api/", "http://testserver/api/"),
    ],
)
def test_pages_name_their_canonical_address(client, cases, url, canonical):
    html = client.get(url).content.decode()
    assert re.findall(r'<link rel="canonical" href="([^"]+)">', html) == [canonical]
