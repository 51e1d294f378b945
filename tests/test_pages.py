"""The pages a public service ships: home, about, errors, and what a case page tells
link previews and screen readers."""

import re

import pytest
from django.test import Client, RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from innovations.catalogue import related
from innovations.catalogue.freshness import current_index
from innovations.models import Innovation


@pytest.fixture
def cases(make_innovation):
    return {
        "lisbon": make_innovation(
            slug="lisbon", title="Lisbon portal", country="PT", tags=["open-data"], year=2020
        ),
        "porto": make_innovation(
            slug="porto", title="Porto card", country="PT", tags=["open-data"]
        ),
        "madrid": make_innovation(slug="madrid", title="Madrid lab", country="ES", year=2021),
        "recife": make_innovation(
            slug="recife", title="Balcão do Recife", country="BR", sectors=[], language="pt"
        ),
        "draft": make_innovation(
            slug="draft", country="PT", tags=["open-data"], status=Innovation.Status.DRAFT
        ),
    }


def test_the_home_page_introduces_the_catalogue_with_its_totals_and_newest_cases(client, cases):
    page = client.get("/").content.decode()
    assert "<strong>4</strong> innovations" in page
    assert "<strong>3</strong> countries" in page
    newest = [page.index(case.title) for case in reversed(list(cases.values())[:4])]
    assert newest == sorted(newest)  # the most recently added first
    assert "draft" not in page
    for link in ['href="/innovations/"', 'href="/innovations/map/"', 'href="/about/"']:
        assert link in page


def test_the_home_page_speaks_portuguese(client, cases):
    page = client.get("/pt/").content.decode()
    assert "<strong>4</strong> inovações" in page
    assert 'href="/pt/innovations/map/"' in page


def home_map(client, path="/"):
    """The home page's small map: each dot's country and count, and its table's rows."""
    page = client.get(path).content.decode()
    dots = re.findall(r'<circle class="dot" data-country="(\w+)" data-count="(\d+)"', page)
    rows = re.findall(
        r'<tr data-country="(\w+)"><th scope="row">[^<]+</th><td class="number">(\d+)</td>', page
    )
    return {code: int(count) for code, count in dots}, {code: int(n) for code, n in rows}, page


def test_the_home_page_maps_where_the_published_cases_are_and_says_it_in_a_table(
    client, cases, make_innovation
):
    dots, table, page = home_map(client)
    assert dots == table == {"PT": 2, "ES": 1, "BR": 1}
    assert 'href="/innovations/map/"' in page
    assert 'aria-label="A map of the innovations in 3 countries: open the full map"' in page
    make_innovation(slug="tokyo", title="Tokyo desk", country="JP")
    make_innovation(slug="faro", title="Faro app", country="PT")
    dots, table, _page = home_map(client)
    assert dots == table == {"PT": 3, "ES": 1, "BR": 1, "JP": 1}
    Innovation.objects.filter(slug="madrid").update(status=Innovation.Status.ARCHIVED)
    assert home_map(client)[0] == {"PT": 3, "BR": 1, "JP": 1}


def test_the_home_page_reads_its_map_from_the_catalogue_index(
    client, cases, django_assert_num_queries
):
    client.get("/")
    with django_assert_num_queries(2):  # the catalogue's changes, the newest cases
        dots, _table, page = home_map(client, "/pt/")
    assert dots == {"PT": 2, "ES": 1, "BR": 1}
    assert "Um mapa das inovações em 3 países" in page


def test_a_home_page_without_cases_draws_no_empty_map(client, seed):
    dots, _table, page = home_map(client)
    assert dots == {} and "<svg" not in page


def test_the_about_page_says_where_the_data_comes_from_and_how_personal_data_is_used(client):
    page = client.get("/about/").content.decode()
    assert 'id="data"' in page and 'id="submit"' in page and 'id="privacy"' in page
    assert 'href="/innovations/submit/"' in page
    assert "Aviso de privacidade" in client.get("/pt/about/").content.decode()


def test_the_submission_form_links_to_the_privacy_notice(client, seed):
    page = client.get("/pt/innovations/submit/").content.decode()
    assert 'href="/pt/about/#privacy"' in page


@pytest.mark.parametrize(
    ("path", "heading"),
    [("/innovations/nothing-here/", "Page not found"), ("/pt/nothing/", "Página não encontrada")],
)
def test_a_missing_page_is_a_branded_404_in_its_language(client, seed, path, heading):
    response = client.get(path)
    assert response.status_code == 404
    page = response.content.decode()
    assert f"<h1>{heading}</h1>" in page
    assert 'class="site-header"' in page and "favicon.svg" in page


@pytest.mark.parametrize(
    ("language", "heading"), [("en", "Something went wrong"), ("pt", "Algo correu mal")]
)
def test_a_fault_is_a_branded_500_in_its_language(language, heading):
    with translation.override(language):
        response = server_error(RequestFactory().get("/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert f'<html lang="{language}">' in page
    assert f"<h1>{heading}</h1>" in page


def test_a_site_served_without_its_static_files_manifest_shows_the_500_page(db, settings, tmp_path):
    settings.STATIC_ROOT = tmp_path  # collectstatic never ran: no manifest of hashed names
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    response = Client(raise_request_exception=False).get("/innovations/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in page
    assert '<link rel="stylesheet" href="/static/css/site.css">' in page


def test_english_cases_in_portuguese_pages_are_marked_as_english(client, cases):
    page = client.get("/pt/innovations/").content.decode()
    assert '<article lang="en">\n          <h3><a href="/pt/innovations/lisbon/">' in page
    assert '<article lang="pt">\n          <h3><a href="/pt/innovations/recife/">' in page
    case = client.get("/pt/innovations/lisbon/").content.decode()
    assert '<header lang="en">\n    <h1>Lisbon portal</h1>' in case


def test_a_case_page_has_link_preview_metadata(client, cases):
    page = client.get("/innovations/lisbon/?country=PT").content.decode()
    assert '<meta property="og:title" content="Lisbon portal">' in page
    assert '<meta property="og:url" content="http://testserver/innovations/lisbon/">' in page
    assert '<link rel="canonical" href="http://testserver/innovations/lisbon/">' in page
    assert 'property="og:description" content="Short explanation of case' in page


def test_a_case_without_long_sections_has_one_column(client, cases):
    page = client.get("/innovations/madrid/").content.decode()
    assert 'class="case-body case-body-short"' in page
    assert "case-sections" not in page


def test_a_case_page_carries_its_list_and_reads_its_neighbours_in_one_query(
    client, cases, django_assert_num_queries
):
    url = "/innovations/madrid/?sort=title&country=PT,ES"
    client.get(url)  # loads the catalogue's index
    with django_assert_num_queries(3):  # the version, the case, its neighbours and related
        page = client.get(url).content.decode()
    assert 'href="/innovations/?sort=title&amp;country=PT%2CES">Back to results' in page
    assert "Case 2 of 3" in page
    assert 'rel="prev" href="/innovations/lisbon/?sort=title&amp;country=PT%2CES"' in page
    assert 'rel="next" href="/innovations/porto/?sort=title&amp;country=PT%2CES"' in page


@pytest.mark.parametrize(
    "query", ["?page=abc&country=ZZ&year_from=x", "?q=" + "x" * 500, "?sort=?"]
)
def test_bad_list_parameters_on_a_case_page_are_ignored(client, cases, query):
    response = client.get("/innovations/lisbon/" + query)
    assert response.status_code == 200
    assert "Lisbon portal" in response.content.decode()


def test_related_cases_are_the_closest_by_tags_sectors_and_country(cases):
    index = current_index()
    lisbon, porto, madrid, recife = (
        cases[name].pk for name in ("lisbon", "porto", "madrid", "recife")
    )
    # Porto shares a tag, the sector and the country; Madrid only the sector; Recife nothing.
    assert related.closest(index, lisbon) == [porto, madrid]
    assert related.closest(index, recife) == []
    assert related.closest(index, cases["draft"].pk) == []
    assert related.closest(index, lisbon, count=1) == [porto]


def test_a_missing_page_does_not_repeat_its_address(client, seed):
    page = client.get("/pt/innovations/no-such-secret/").content.decode()
    assert "no-such-secret" not in page
    assert '<a href="/" lang="en" hreflang="en">English</a>' in page


def test_related_cases_agree_with_the_stored_terms_on_random_catalogues(make_innovation):
    """closest() over the index's bitsets ranks as the same score worked out from rows."""
    import random

    rng = random.Random(14)
    tags = ["open-data", "chatbots", "skills", "transparency"]
    sectors = ["health", "education", "economic-affairs"]
    for number in range(30):
        make_innovation(
            country=rng.choice(["PT", "ES", "FR"]),
            tags=rng.sample(tags, rng.randint(0, 3)),
            sectors=rng.sample(sectors, rng.randint(0, 2)),
            status=rng.choice(["published"] * 5 + ["draft"]),
            slug=f"random-{number}",
        )
    published = Innovation.objects.published().prefetch_related("tags", "sectors")
    rows = {
        case.pk: (
            case.country_id,
            {tag.slug for tag in case.tags.all()},
            {sector.slug for sector in case.sectors.all()},
        )
        for case in published
    }
    index = current_index()
    for pk, (country, own_tags, own_sectors) in rows.items():
        scores = {
            other: 3 * len(own_tags & tags_) + 2 * len(own_sectors & sectors_) + (c == country)
            for other, (c, tags_, sectors_) in rows.items()
            if other != pk
        }
        expected = sorted((o for o, s in scores.items() if s), key=lambda o: (-scores[o], -o))
        assert related.closest(index, pk, count=5) == expected[:5]
