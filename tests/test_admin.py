"""Editors add and correct cases in the admin without being superusers."""

import pytest
from django.contrib.auth.models import Group

from innovations.models import Innovation, Sector, Tag


def case_form(**overrides):
    return {
        "title": "Open budget",
        "slug": "open-budget",
        "short_explanation": "Citizens see the budget.",
        "status": "published",
        "country": "PT",
        "level": "local",
        "sectors": [Sector.objects.get(slug="economic-affairs").pk],
        "tags": [Tag.objects.get(slug="open-data").pk],
        "year": "2022",
        **overrides,
    }


def test_the_editors_group_exists_with_case_permissions(db):
    codenames = set(
        Group.objects.get(name="Editors").permissions.values_list("codename", flat=True)
    )
    assert {"add_innovation", "change_innovation", "add_tag", "change_sector"} <= codenames


def test_an_editor_adds_a_case_that_appears_in_the_list(editor_client, seed, editor):
    assert not editor.is_superuser
    response = editor_client.post("/admin/innovations/innovation/add/", case_form())
    assert response.status_code == 302
    case = Innovation.objects.get(slug="open-budget")
    assert (case.country_id, case.year, list(case.tags.values_list("slug", flat=True))) == (
        "PT",
        2022,
        ["open-data"],
    )
    assert "Open budget" in editor_client.get("/innovations/").content.decode()


def test_invalid_case_shows_clear_messages_and_stores_nothing(editor_client, seed):
    response = editor_client.post(
        "/admin/innovations/innovation/add/",
        case_form(year="1850", latitude="95", longitude="", short_explanation="x" * 501),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1900." in page
    assert "Ensure this value is less than or equal to 90." in page
    assert "at most 500 characters" in page
    assert not Innovation.objects.exists()


def test_the_year_is_checked_in_the_database_too(make_innovation):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        make_innovation(year=1899)


def test_admin_list_has_facets_and_search(editor_client, make_innovation):
    make_innovation(title="Findable case")
    page = editor_client.get("/admin/innovations/innovation/?q=Findable").content.decode()
    assert "Findable case" in page
    assert "By level of government" in page


def test_vocabularies_are_editable(editor_client, seed):
    response = editor_client.post(
        "/admin/innovations/tag/add/", {"name": "Drones", "slug": "drones"}
    )
    assert response.status_code == 302
    assert Tag.objects.filter(slug="drones").exists()


def test_country_autocomplete_answers_editors(editor_client, seed):
    response = editor_client.get(
        "/admin/autocomplete/",
        {
            "term": "Portu",
            "app_label": "innovations",
            "model_name": "innovation",
            "field_name": "country",
        },
    )
    assert [row["text"] for row in response.json()["results"]] == ["Portugal"]


def test_a_slug_taken_by_another_page_is_refused(editor_client, seed):
    response = editor_client.post("/admin/innovations/innovation/add/", case_form(slug="map"))
    assert "is the address of another page" in response.content.decode()
    assert not Innovation.objects.filter(slug="map").exists()
