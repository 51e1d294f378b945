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
from innovations.catalogue import exports
from innovations.models import Innovation, Sector, StatusChange

Status = Innovation.Status
HIDDEN = [Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.ARCHIVED]
CHANGELIST = "/admin/innovations/innovation/"


def change_url(case):
    return f"{CHANGELIST}{case.pk}/change/"


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
    assert "/innovations/submit/" in message.body


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
        assert parameters <= {"slug", "format"}, f"Teach this test the parameters of {pattern.name}"
        if "format" in parameters:
            walks = [{"format": format} for format in (*exports.ACCEPTED, "xlsx")]
        else:
            walks = [{"slug": slug} if parameters else {}]
        for kwargs, (language, _name) in itertools.product(walks, settings.LANGUAGES):
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
            body = b"".join(response.streaming_content) if response.streaming else response.content
            body = body.decode()
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


# Editors in the admin


def test_the_admin_home_counts_the_review_queue_and_links_to_it(
    editor_client, make_submission, make_innovation
):
    make_submission()
    make_submission()
    make_innovation(status="draft")
    page = editor_client.get("/admin/").content.decode()
    assert f'<a href="{CHANGELIST}?status__exact=submitted">2 cases awaiting review</a>' in page


def test_the_review_queue_lists_submitted_cases_oldest_first(editor_client, make_submission):
    first = make_submission(title="First in")
    second = make_submission(title="Second in")
    Innovation.objects.filter(pk=first.pk).update(created="2026-01-01T00:00Z")
    Innovation.objects.filter(pk=second.pk).update(created="2026-02-01T00:00Z")
    page = editor_client.get(f"{CHANGELIST}?status__exact=submitted").content.decode()
    assert page.index("First in") < page.index("Second in")


def test_the_review_queue_query_count_is_fixed(
    editor_client, make_submission, django_assert_num_queries
):
    for _ in range(3):
        make_submission(tags=["open-data"], sectors=["health", "education"])
    # 56, and two to raise the admin's statement timeout for the request and put it back.
    with django_assert_num_queries(58):
        editor_client.get(f"{CHANGELIST}?status__exact=submitted")
    for _ in range(5):
        make_submission(tags=["open-data"], sectors=["health", "education"])
    with django_assert_num_queries(58):
        editor_client.get(f"{CHANGELIST}?status__exact=submitted")


def run_action(client, url, action, cases, **extra):
    data = {"action": action, "_selected_action": [case.pk for case in cases], **extra}
    return client.post(url, data)


def test_an_editor_publishes_from_the_review_queue(
    editor_client, editor, make_submission, django_capture_on_commit_callbacks
):
    cases = [make_submission(), make_submission()]
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(editor_client, CHANGELIST, "publish", cases)
    assert response.status_code == 302
    for case in cases:
        case.refresh_from_db()
        assert case.status == "published"
        assert case.status_changes.last().by == editor
    assert len(mail.outbox) == 2


def test_moves_the_workflow_forbids_are_reported_and_skipped(editor_client, make_innovation):
    published = make_innovation(status="published", title="Already public")
    response = run_action(editor_client, CHANGELIST, "submit_for_review", [published])
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == [
        "Left as they were (the workflow does not allow this move): Already public (Published)."
    ]
    published.refresh_from_db()
    assert published.status == "published"


def test_an_editor_publishes_from_the_case_page(editor_client, make_submission):
    case = make_submission()
    page = editor_client.get(change_url(case)).content.decode()
    assert '<option value="publish">Publish</option>' in page
    response = editor_client.post(
        change_url(case),
        {"CHANGE_FORM-action": "publish", "_selected_action": case.pk, "index": 0},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "published"


def test_return_for_changes_asks_for_the_message_then_sends_it(
    editor_client, make_submission, django_capture_on_commit_callbacks
):
    case = make_submission(title="Needs work")
    page = run_action(editor_client, CHANGELIST, "return_for_changes", [case])
    assert page.status_code == 200
    assert "Message to the submitter" in page.content.decode()
    assert Innovation.objects.get(pk=case.pk).status == "submitted"

    empty = run_action(
        editor_client, CHANGELIST, "return_for_changes", [case], apply="1", message=" "
    )
    assert "This field is required." in empty.content.decode()
    assert Innovation.objects.get(pk=case.pk).status == "submitted"

    with django_capture_on_commit_callbacks(execute=True):
        done = run_action(
            editor_client,
            CHANGELIST,
            "return_for_changes",
            [case],
            apply="1",
            message="Add figures to the results.",
        )
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.status == "returned"
    assert case.status_changes.last().note == "Add figures to the results."
    assert "Add figures to the results." in mail.outbox[0].body


def test_return_for_changes_works_from_the_case_page_too(editor_client, make_submission):
    case = make_submission()
    action = {"CHANGE_FORM-action": "return_for_changes", "_selected_action": case.pk}
    page = editor_client.post(change_url(case), action).content.decode()
    assert 'name="CHANGE_FORM-action" value="return_for_changes"' in page
    editor_client.post(change_url(case), {**action, "apply": "1", "message": "More detail."})
    assert Innovation.objects.get(pk=case.pk).status == "returned"


def test_the_case_page_shows_the_submitter_and_the_history_read_only(
    editor_client, editor, make_submission
):
    case = make_submission(name="Ana Submitter", email="ana@example.org")
    case.transition("returned", by=editor, note="Add the results.")
    page = editor_client.get(change_url(case)).content.decode()
    assert 'Ana Submitter &lt;<a href="mailto:ana@example.org">ana@example.org</a>&gt;' in page
    assert "<td>editor</td><td>Awaiting review</td><td>Returned for changes</td>" in page
    assert "Add the results." in page
    assert 'name="status"' not in page  # read-only: it changes only through the actions


def case_form(case, **overrides):
    return {
        "title": case.title,
        "slug": case.slug,
        "short_explanation": case.short_explanation,
        "country": case.country_id,
        "level": case.level,
        "sectors": [term.pk for term in case.sectors.all()],
        "seen_version": case.version,
        **overrides,
    }


def test_status_typed_into_the_case_form_is_ignored(editor_client, make_submission):
    case = make_submission()
    response = editor_client.post(
        change_url(case), case_form(case, title="Edited title", status="published")
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.title, case.status) == ("Edited title", "submitted")


def test_a_new_case_may_only_be_given_the_statuses_its_author_may_choose(client, seed, db):
    writer = User.objects.create_user("writer", is_staff=True)
    writer.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_innovation", "change_innovation", "add_innovation"]
        )
    )
    client.force_login(writer)
    page = client.get(f"{CHANGELIST}add/").content.decode()
    assert '<option value="published"' not in page
    data = {
        "title": "Sneaky",
        "slug": "sneaky",
        "short_explanation": "x",
        "country": "PT",
        "level": "local",
        "sectors": [Sector.objects.get(slug="health").pk],
        "status": "published",
    }
    response = client.post(f"{CHANGELIST}add/", data)
    assert "Select a valid choice" in response.content.decode()
    assert not Innovation.objects.exists()


def test_an_editor_adding_a_published_case_leaves_a_logged_move(editor_client, editor, seed):
    data = {
        "title": "Added",
        "slug": "added",
        "short_explanation": "x",
        "country": "PT",
        "level": "local",
        "sectors": [Sector.objects.get(slug="health").pk],
        "status": "published",
    }
    assert editor_client.post(f"{CHANGELIST}add/", data).status_code == 302
    case = Innovation.objects.get(slug="added")
    assert [(c.from_status, c.to_status, c.by) for c in case.status_changes.all()] == [
        ("draft", "published", editor)
    ]


def test_a_non_editor_staff_user_cannot_publish_in_the_admin(client, make_submission, db):
    writer = User.objects.create_user("writer", is_staff=True)
    writer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_innovation", "change_innovation"])
    )
    client.force_login(writer)
    case = make_submission()
    assert 'value="publish"' not in client.get(CHANGELIST).content.decode()
    assert 'value="publish"' not in client.get(change_url(case)).content.decode()
    run_action(client, CHANGELIST, "publish", [case])
    client.post(change_url(case), {"CHANGE_FORM-action": "publish", "_selected_action": case.pk})
    assert Innovation.objects.get(pk=case.pk).status == "submitted"


def test_staff_without_permissions_cannot_see_the_review_queue(client, make_submission, db):
    client.force_login(User.objects.create_user("visitor", is_staff=True))
    assert client.get(CHANGELIST).status_code == 403
    assert "awaiting review" not in client.get("/admin/").content.decode()


def test_published_cases_are_archived_never_deleted(editor_client, make_innovation):
    published = make_innovation(status="published")
    assert editor_client.get(f"{CHANGELIST}{published.pk}/delete/").status_code == 403
    response = run_action(editor_client, CHANGELIST, "delete_selected", [published], post="yes")
    assert response.status_code == 403
    assert Innovation.objects.filter(pk=published.pk).exists()

    run_action(editor_client, CHANGELIST, "archive", [published])
    published.refresh_from_db()
    assert published.status == "archived"


def test_unpublished_cases_may_be_deleted(editor_client, make_submission):
    spam = make_submission()
    response = editor_client.post(f"{CHANGELIST}{spam.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Innovation.objects.filter(pk=spam.pk).exists()


# The emails, as the submitter reads them


@pytest.mark.parametrize(
    ("language", "status", "subject", "body"),
    [
        ("en", "submitted", 'We received your case “Say "yes" & <go>”', "Thank you for submitting"),
        ("en", "published", 'Your case “Say "yes" & <go>” is published', "is now published"),
        ("en", "returned", 'Your case “Say "yes" & <go>” needs changes', "asks for some changes"),
        (
            "pt",
            "submitted",
            'Recebemos o seu caso “Say "yes" & <go>”',
            "Obrigado por ter submetido",
        ),
        ("pt", "published", 'O seu caso “Say "yes" & <go>” foi publicado', "já está publicado"),
        ("pt", "returned", 'O seu caso “Say "yes" & <go>” precisa de alterações', "pede algumas"),
    ],
)
def test_emails_are_plain_text_in_the_submitters_language(
    make_submission, language, status, subject, body
):
    case = make_submission(title='Say "yes" & <go>')
    submission = case.submission
    submission.language = language
    submission.notify(status, note="Add the results & <figures>.")
    [message] = mail.outbox
    assert message.subject == subject
    assert body in message.body
    assert 'Say "yes" & <go>' in message.body
    assert "&quot;" not in message.body + message.subject
    assert "&amp;" not in message.body + message.subject
    if status != "submitted":  # a link to the case, or to the form
        assert f"{settings.SITE_URL.rstrip('/')}/" in message.body
