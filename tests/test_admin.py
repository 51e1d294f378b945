"""Editors add and correct cases in the admin without being superusers."""

import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

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


# Two editors at once, and who may change what is public


def change_url(case):
    return f"/admin/innovations/innovation/{case.pk}/change/"


def opened_form(client, case):
    """The case form as an editor's browser holds it after opening the case."""
    page = client.get(change_url(case)).content.decode()
    seen = re.search(r'name="seen_version" value="(\d+)"', page).group(1)
    return case_form(slug=case.slug, title=case.title, status=case.status, seen_version=seen)


def test_a_form_opened_before_another_editors_save_is_refused(
    editor_client, make_innovation, django_user_model
):
    case = make_innovation(title="Open budget")
    other = django_user_model.objects.create_superuser("other", password="a-long-passphrase")
    other_client = Client()
    other_client.force_login(other)
    mine, theirs = opened_form(editor_client, case), opened_form(other_client, case)

    saved = other_client.post(change_url(case), {**theirs, "title": "Their title"})
    assert saved.status_code == 302
    response = editor_client.post(change_url(case), {**mine, "title": "My title"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Another editor saved this case after you opened it" in page
    assert f'<a href="{change_url(case)}">open the latest version</a>' in page
    assert 'value="My title"' in page  # what was typed is still there to copy
    case.refresh_from_db()
    assert (case.title, case.version) == ("Their title", 2)


def test_a_reloaded_form_saves(editor_client, make_innovation):
    case = make_innovation(title="Open budget")
    editor_client.post(change_url(case), {**opened_form(editor_client, case), "title": "One"})
    response = editor_client.post(
        change_url(case), {**opened_form(editor_client, case), "title": "Two"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.title, case.version) == ("Two", 3)


@pytest.fixture
def writer_client(client, db):
    """Staff who may add and change cases, but not publish them."""
    writer = User.objects.create_user("writer", is_staff=True)
    writer.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_innovation", "change_innovation", "add_innovation"]
        )
    )
    client.force_login(writer)
    return client


def test_editing_a_published_case_needs_the_publish_permission(writer_client, make_innovation):
    case = make_innovation(title="Live case", status="published")
    page = writer_client.get(change_url(case)).content.decode()
    assert 'name="title"' not in page  # shown read-only
    data = {**case_form(slug=case.slug, status="published"), "title": "Changed live"}
    assert writer_client.post(change_url(case), data).status_code == 403
    case.refresh_from_db()
    assert case.title == "Live case"


def test_staff_who_cannot_publish_still_edit_cases_under_review(writer_client, make_submission):
    case = make_submission(title="Under review")
    form = opened_form(writer_client, case)
    assert writer_client.post(change_url(case), {**form, "title": "Corrected"}).status_code == 302
    case.refresh_from_db()
    assert (case.title, case.status) == ("Corrected", "submitted")
