"""The case page: every section, the facts panel with links, and the source credit."""

import pytest

from innovations.models import Innovation, Sector, Tag


@pytest.fixture
def case(make_innovation):
    return make_innovation(
        slug="transparency-portal",
        title="Transparency+ Portal",
        country="PT",
        level="national",
        year=2021,
        sectors=["economic-affairs"],
        stages=["implementation"],
        recognitions=["featured-case"],
        tags=["open-data", "transparency"],
        overview="A portal on public spending.",
        lessons="Tell stories with data.",
        organisation_name="Agency for Administrative Modernisation",
        organisation_type="government",
        website="https://transparencia.gov.pt/",
        source="OECD Observatory of Public Sector Innovation (OPSI)",
        source_url="https://oecd-opsi.org/innovations/",
    )


def test_shows_the_sections_that_have_text(client, case):
    page = client.get("/innovations/transparency-portal/").content.decode()
    assert "<h1>Transparency+ Portal</h1>" in page
    assert "<h2>Overview</h2>" in page
    assert "<h2>Lessons learned</h2>" in page
    assert "Challenges and failures" not in page


def test_each_fact_links_to_the_list_filtered_by_it(client, case):
    page = client.get("/innovations/transparency-portal/").content.decode()
    for link in [
        "?country=PT",
        "?level=national",
        "?sector=economic-affairs",
        "?stage=implementation",
        "?year_from=2021&amp;year_to=2021",
        "?recognition=featured-case",
        "?tag=open-data",
    ]:
        assert f'href="/innovations/{link}"' in page, link


def test_shows_organisation_website_update_date_and_source(client, case):
    page = client.get("/innovations/transparency-portal/").content.decode()
    assert "Agency for Administrative Modernisation (Government)" in page
    assert 'href="https://transparencia.gov.pt/"' in page
    assert case.updated.strftime("%Y-%m-%d") in page
    assert "OECD Observatory of Public Sector Innovation (OPSI)" in page


def test_a_draft_is_not_found(client, case):
    Innovation.objects.filter(pk=case.pk).update(status="draft")
    assert client.get("/innovations/transparency-portal/").status_code == 404


def test_an_unknown_slug_is_not_found(client, seed):
    assert client.get("/innovations/no-such-case/").status_code == 404


def test_shows_terms_as_an_editor_last_set_them(client, case):
    client.get("/innovations/transparency-portal/")
    case.tags.set(Tag.objects.filter(slug="transparency"))
    case.sectors.add(Sector.objects.get(slug="education"))

    page = client.get("/innovations/transparency-portal/").content.decode()

    assert 'href="/innovations/?tag=transparency"' in page
    assert "?tag=open-data" not in page
    assert 'href="/innovations/?sector=education"' in page


def test_a_case_page_is_two_queries(client, case, django_assert_num_queries):
    client.get("/innovations/transparency-portal/")  # loads the catalogue's index
    # The changes not applied yet, then the case; its terms come from the index.
    with django_assert_num_queries(2):
        client.get("/innovations/transparency-portal/")
