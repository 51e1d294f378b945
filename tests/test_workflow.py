"""Editors review cases: only published ones are public, and every move is recorded."""

import itertools
import json

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from innovations import urls as innovation_urls
from innovations.models import Innovation, StatusChange

Status = Innovation.Status
HIDDEN = [Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.ARCHIVED]


# The rules


@pytest.mark.parametrize(("current", "new"), list(itertools.product(Status, Status)))
def test_only_the_listed_moves_are_allowed(make_innovation, editor, current, new):
    case = make_innovation(status=current)
    if new in Innovation.TRANSITIONS[current]:
        case.transition(new, by=editor, note="Why.")
        assert Innovation.objects.get(pk=case.pk).status == new
    else:
        with pytest.raises(ValidationError):
            case.transition(new, by=editor, note="Why.")
        assert Innovation.objects.get(pk=case.pk).status == current
        assert not case.status_changes.exists()


def test_each_move_is_logged_with_who_when_from_to_and_note(make_submission, editor):
    case = make_submission()
    before = case.updated
    change = case.transition("returned", by=editor, note="Add the results, please.")
    case.transition("submitted", by=editor)
    case.transition("published", by=editor)
    assert change == StatusChange.objects.get(to_status="returned")
    assert [(c.by, c.from_status, c.to_status, c.note) for c in case.status_changes.all()] == [
        (editor, "submitted", "returned", "Add the results, please."),
        (editor, "returned", "submitted", ""),
        (editor, "submitted", "published", ""),
    ]
    assert change.at > before
    case.refresh_from_db()
    assert case.status == "published" and case.updated > before


def test_returning_a_case_needs_a_message(make_submission, editor):
    case = make_submission()
    with pytest.raises(ValidationError, match="Say what the submitter should change"):
        case.transition("returned", by=editor, note="  ")
    assert Innovation.objects.get(pk=case.pk).status == "submitted"


def test_a_case_changed_meanwhile_is_not_overwritten(make_submission, editor):
    case = make_submission()
    stale = Innovation.objects.get(pk=case.pk)
    case.transition("archived", by=editor)
    with pytest.raises(ValidationError, match="changed meanwhile"):
        stale.transition("published", by=editor)
    assert Innovation.objects.get(pk=case.pk).status == "archived"


def test_a_staff_member_who_is_not_an_editor_cannot_publish(make_submission, db):
    writer = User.objects.create_user("writer", is_staff=True)
    writer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_innovation", "change_innovation"])
    )
    case = make_submission()
    with pytest.raises(PermissionDenied):
        case.transition("published", by=writer)
    assert case.next_statuses(writer) == []
    assert Innovation.objects.get(pk=case.pk).status == "submitted"


def test_the_editors_group_may_publish(editor):
    assert editor.has_perm("innovations.publish_innovation")
    assert editor.has_perm("innovations.view_submission")
    assert editor.has_perm("innovations.view_statuschange")


# The submitter hears about decisions


def test_publishing_emails_the_submitter_the_address_of_the_case(
    make_submission, editor, django_capture_on_commit_callbacks
):
    case = make_submission(title="Open budget", slug="open-budget")
    with django_capture_on_commit_callbacks(execute=True):
        case.transition("published", by=editor)
    [message] = mail.outbox
    assert message.to == ["ana@example.org"]
    assert message.subject == "Your case “Open budget” is published"
    assert f"{settings.SITE_URL}/innovations/open-budget/" in message.body


def test_returning_emails_the_submitter_the_editors_message(
    make_submission, editor, django_capture_on_commit_callbacks
):
    case = make_submission(title="Open budget")
    with django_capture_on_commit_callbacks(execute=True):
        case.transition("returned", by=editor, note="Please add the results & figures.")
    [message] = mail.outbox
    assert message.subject == "Your case “Open budget” needs changes"
    assert "Please add the results & figures." in message.body


def test_archiving_and_cases_without_a_submitter_send_nothing(
    make_innovation, make_submission, editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_submission().transition("archived", by=editor)
        make_innovation(status="draft").transition("published", by=editor)
    assert mail.outbox == []


# Nothing unpublished leaks


def public_urls(slug):
    """Every address in the catalogue's URLconf, in every language, for a case `slug`.

    Pages added later (a map, its data) are walked as soon as they are in urls.py;
    a page with a new kind of parameter fails here until the test learns it.
    """
    for pattern in innovation_urls.urlpatterns:
        parameters = set(pattern.pattern.converters)
        assert parameters <= {"slug"}, f"Teach this test the parameters of {pattern.name}"
        kwargs = {"slug": slug} if parameters else {}
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                yield pattern.name, reverse(f"innovations:{pattern.name}", kwargs=kwargs)
    yield "home", "/"


def facet_counts_of(data, values):
    """Every count the JSON gives for an option whose value is in `values`."""
    if isinstance(data, dict):
        if data.get("value") in values and "count" in data:
            yield data["count"]
        for item in data.values():
            yield from facet_counts_of(item, values)
    elif isinstance(data, list):
        for item in data:
            yield from facet_counts_of(item, values)


@pytest.mark.parametrize("status", HIDDEN)
def test_unpublished_cases_are_absent_from_every_public_surface(
    client, make_innovation, make_submission, status
):
    visible = make_submission(
        title="Visible case", slug="visible-case", status="published", country="PT"
    )
    hidden = make_innovation(
        title="Hidden zebra case",
        slug="hidden-zebra",
        short_explanation="Zebras are secret.",
        status=status,
        country="BR",
        level="other",
        year=1999,
        sectors=["external-relations"],
        stages=["generating-ideas"],
        recognitions=["award-finalist"],
        tags=["early-warning"],
    )
    secrets = [hidden.title, hidden.slug, hidden.short_explanation, "Ana Submitter", "ana@example"]
    # The hidden case's own facet values: any count for them must be 0.
    own_values = {"BR", "other", 1999, "external-relations", "generating-ideas"}
    own_values |= {"award-finalist", "early-warning"}
    queries = ["", "?country=BR&tag=early-warning", "?q=zebra", "?year_from=1999&year_to=1999"]

    walked = set()
    for name, url in public_urls(hidden.slug):
        walked.add(name)
        for query, accept in itertools.product(
            [*queries, "?format=json"], ["text/html", "application/json"]
        ):
            response = client.get(url + query, headers={"accept": accept}, follow=True)
            assert response.status_code < 500, url + query
            if name == "detail":
                assert response.status_code == 404, url
            body = response.content.decode()
            for secret in secrets:
                assert secret not in body, f"{url}{query} shows “{secret}”"
            if response["Content-Type"].startswith("application/json"):
                data = json.loads(body)
                assert set(facet_counts_of(data, own_values)) <= {0}, url + query
    assert {"list", "detail", "home"} <= walked

    # The walk would have seen the hidden case had it been public.
    listing = client.get("/innovations/?format=json").json()
    assert [row["slug"] for row in listing["results"]] == [visible.slug]
    assert listing["count"] == 1
    assert client.get(f"/innovations/{visible.slug}/").status_code == 200


def test_a_published_case_never_shows_its_submitter(client, make_submission, editor):
    case = make_submission(name="Private Person", email="private@example.org")
    case.transition("published", by=editor)
    for url in [f"/innovations/{case.slug}/", "/innovations/", "/innovations/?format=json"]:
        body = client.get(url).content.decode()
        assert case.title in body
        assert "Private Person" not in body and "private@example.org" not in body
