"""Anyone may propose a case: it waits for review, and nothing typed is lost or leaks."""

import re
import uuid

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from innovations.forms import SubmissionForm
from innovations.models import (
    SECTION_FIELDS,
    Innovation,
    Recognition,
    Sector,
    Stage,
    Submission,
    Tag,
)

SUBMIT = "/innovations/submit/"
THANKS = "/innovations/submit/thanks/"
SCRIPT = "<script>alert('x')</script>"


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    """The rate limit counts in the cache; each test starts with no submissions counted."""
    cache.clear()
    yield
    cache.clear()


def pks(model, *slugs):
    return [str(pk) for pk in model.objects.filter(slug__in=slugs).values_list("pk", flat=True)]


def case_data(**overrides):
    """Everything the form asks for, filled in."""
    return {
        "token": str(uuid.uuid4()),
        "title": "Open budget for Porto",
        "short_explanation": "Citizens see and discuss the city budget.",
        **{name: f"Text of the {name} section." for name in SECTION_FIELDS},
        "country": "PT",
        "level": "local",
        "sectors": pks(Sector, "economic-affairs", "housing-and-community"),
        "stages": pks(Stage, "evaluation"),
        "year": "2022",
        "recognitions": [],
        "tags": pks(Tag, "open-data", "transparency"),
        "organisation_name": "Porto City Council",
        "organisation_type": "government",
        "website": "https://www.porto.pt/",
        "name": "Ana Submitter",
        "email": "ana@example.org",
        "may_share": "on",
        **overrides,
    }


def hidden_value(page, name):
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def test_the_form_shows_each_section_with_its_limit_help_and_counter(client, seed):
    response = client.get(SUBMIT)
    page = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]  # a one-time token is never cached
    assert 'name="short_explanation" cols="40" rows="4" maxlength="500"' in page
    assert 'maxlength="5000"' in page
    assert page.count('maxlength="1000"') == len(SECTION_FIELDS) - 1
    assert "0 / 5000 characters" in page
    assert 'data-format="{number} / {limit} characters"' in page
    assert "What is new about it, compared with what was done before" in page
    assert '<option value="PT">Portugal</option>' in page
    assert 'type="radio" name="level" value="local"' in page
    for name in ["sectors", "stages", "recognitions", "tags"]:
        assert f'type="checkbox" name="{name}"' in page
    assert 'name="year"' in page and 'name="may_share"' in page


def test_the_header_links_to_the_form(client, seed):
    page = client.get("/innovations/").content.decode()
    assert f'<a href="{SUBMIT}">Submit an innovation</a>' in page


def test_a_submission_through_the_real_form_lands_as_submitted_with_every_field_stored(
    seed, django_capture_on_commit_callbacks
):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(SUBMIT).content.decode()
    data = case_data(
        csrfmiddlewaretoken=hidden_value(page, "csrfmiddlewaretoken"),
        token=hidden_value(page, "token"),
        recognitions=pks(Recognition, "case-study"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(SUBMIT, data)
    assert response.status_code == 302
    assert response["Location"] == THANKS

    case = Innovation.objects.get()
    assert case.status == Innovation.Status.SUBMITTED
    assert (case.title, case.slug) == ("Open budget for Porto", "open-budget-for-porto")
    assert case.short_explanation == "Citizens see and discuss the city budget."
    for name in SECTION_FIELDS:
        assert getattr(case, name) == f"Text of the {name} section."
    assert (case.country_id, case.level, case.year) == ("PT", "local", 2022)
    assert (case.organisation_name, case.organisation_type, case.website) == (
        "Porto City Council",
        "government",
        "https://www.porto.pt/",
    )
    assert sorted(case.sectors.values_list("slug", flat=True)) == [
        "economic-affairs",
        "housing-and-community",
    ]
    assert list(case.stages.values_list("slug", flat=True)) == ["evaluation"]
    assert list(case.recognitions.values_list("slug", flat=True)) == ["case-study"]
    assert sorted(case.tags.values_list("slug", flat=True)) == ["open-data", "transparency"]

    submission = case.submission
    assert (submission.name, submission.email, submission.may_share) == (
        "Ana Submitter",
        "ana@example.org",
        True,
    )
    assert str(submission.token) == data["token"]
    assert [(c.from_status, c.to_status, c.by) for c in case.status_changes.all()] == [
        ("", "submitted", None)
    ]

    [confirmation] = mail.outbox
    assert confirmation.to == ["ana@example.org"]
    assert confirmation.subject == "We received your case “Open budget for Porto”"
    assert "An editor will review it" in confirmation.body


def test_the_thank_you_page_says_what_happens_next(client, seed):
    page = client.get(THANKS).content.decode()
    assert "We have emailed you a confirmation" in page
    assert f'href="{SUBMIT}"' in page


def test_without_the_csrf_token_nothing_is_stored(seed):
    response = Client(enforce_csrf_checks=True).post(SUBMIT, case_data())
    assert response.status_code == 403
    assert not Innovation.objects.exists()


def test_errors_keep_everything_typed_and_say_what_to_fix(client, seed):
    typed = case_data(
        title="",
        overview="Ünïcode & <angle> text\r\nsecond line " + "x" * 5000,
        email="not-an-email",
        may_share="",
        year="1850",
    )
    response = client.post(SUBMIT, typed)
    page = response.content.decode()
    assert response.status_code == 200
    assert not Innovation.objects.exists()
    assert not mail.outbox

    # A summary at the top links to each field to fix.
    summary = page[
        page.index('id="error-summary"') : page.index("</ul>", page.index("error-summary"))
    ]
    assert '<a href="#id_title">Title: This field is required.</a>' in summary
    assert (
        '<a href="#id_overview">Overview: Ensure this value has at most 5000 characters' in summary
    )
    assert '<a href="#id_email">Your email address: Enter a valid email address.</a>' in summary
    assert '<a href="#id_may_share">Confirm that you may share this content.</a>' in summary
    assert (
        '<a href="#id_year">Year of launch: Ensure this value is greater than or equal to 1900.'
        in summary
    )

    # Each field points to its message, and keeps what was typed.
    assert (
        'aria-invalid="true" aria-describedby="id_title_helptext id_title_error" id="id_title"'
        in page
    )
    assert '<ul class="errorlist" id="id_title_error">' in page
    assert "Ünïcode &amp; angle text\nsecond line xxxx" not in page  # not yet stripped: as typed
    assert "Ünïcode &amp; &lt;angle&gt; text" in page
    assert 'value="not-an-email"' in page
    assert 'value="1850"' in page
    assert "Text of the lessons section." in page
    assert '<option value="PT" selected>Portugal</option>' in page
    assert 'value="local" required id="id_level_2" checked' in page
    for pk in typed["tags"]:
        assert re.search(rf'name="tags" value="{pk}"[^>]*checked', page)
    assert hidden_value(page, "token") == typed["token"]


def test_every_field_has_a_length_limit_checked_on_the_server(client, seed):
    too_long = case_data(
        title="t" * 201,
        short_explanation="s" * 501,
        name="n" * 201,
        email=("e" * 250) + "@example.org",
        organisation_name="o" * 201,
        website="https://example.org/" + "w" * 500,
        **{name: "x" * 1001 for name in SECTION_FIELDS if name != "overview"},
    )
    page = client.post(SUBMIT, too_long).content.decode()
    for name in ["title", "short_explanation", "name", "organisation_name", "website", "lessons"]:
        assert f'aria-describedby="id_{name}_helptext id_{name}_error"' in page or (
            f'aria-describedby="id_{name}_error"' in page
        ), name
    assert "Ensure this value has at most 254 characters" in page
    assert not Innovation.objects.exists()


def test_line_breaks_count_once_as_the_browser_counts_them(client, seed):
    # 1000 characters in the browser: it sends each line break as \r\n.
    text = "\r\n".join(["x" * 99] * 10) + "x"
    assert len(text.replace("\r\n", "\n")) == 1000
    assert client.post(SUBMIT, case_data(lessons=text)).status_code == 302
    assert Innovation.objects.get().lessons == text.replace("\r\n", "\n")


def test_markup_is_stripped_on_input_from_every_field(client, seed):
    data = case_data(
        title=f"Clean {SCRIPT}title",
        short_explanation=f"<b>Bold</b> claim {SCRIPT}",
        organisation_name=f"<i>Council</i>{SCRIPT}",
        name=f"Ana {SCRIPT}<img src=x onerror=alert(1)>",
        **{name: f"<p>Para</p>{SCRIPT}<a href='javascript:x'>link</a>" for name in SECTION_FIELDS},
    )
    assert client.post(SUBMIT, data).status_code == 302
    case = Innovation.objects.get()
    assert case.title == "Clean alert('x')title"
    assert case.short_explanation == "Bold claim alert('x')"
    assert case.organisation_name == "Councilalert('x')"
    assert case.submission.name == "Ana alert('x')"
    for name in SECTION_FIELDS:
        assert getattr(case, name) == "Paraalert('x')link"


def test_a_script_tag_never_reaches_a_page_unescaped(client, editor, seed):
    data = case_data(
        title=f"Case {SCRIPT}",
        name=f"Name {SCRIPT}",
        **{name: SCRIPT for name in ["short_explanation", *SECTION_FIELDS]},
    )
    client.post(SUBMIT, data)
    case = Innovation.objects.get()
    # Text stored some other way (an import, the admin, old data) is escaped on output.
    Innovation.objects.filter(pk=case.pk).update(
        title=f"Case {SCRIPT}", short_explanation=SCRIPT, lessons=SCRIPT
    )
    Submission.objects.filter(innovation=case).update(name=f"Name {SCRIPT}")
    case.refresh_from_db()
    case.transition("published", by=editor, note=SCRIPT)

    # JSON carries the text as stored; it is data, never read as a page.
    data = client.get("/innovations/?format=json")
    assert data.json()["results"][0]["title"] == f"Case {SCRIPT}"
    assert data["Content-Type"] == "application/json"
    assert data["X-Content-Type-Options"] == "nosniff"

    pages = [
        client.get(f"/innovations/{case.slug}/"),
        client.get("/innovations/"),
        client.get("/innovations/?q=Case"),
    ]
    client.force_login(editor)
    pages += [
        client.get("/admin/"),
        client.get("/admin/innovations/innovation/"),
        client.get(f"/admin/innovations/innovation/{case.pk}/change/"),
    ]
    for response in pages:
        assert response.status_code == 200
        assert "<script>alert" not in response.content.decode(), response.request["PATH_INFO"]
    assert "&lt;script&gt;alert" in pages[0].content.decode()


def test_sending_the_same_form_twice_creates_one_case(
    client, seed, django_capture_on_commit_callbacks
):
    data = case_data()
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(SUBMIT, data)
        second = client.post(SUBMIT, data)
    assert first["Location"] == second["Location"] == THANKS
    assert Innovation.objects.count() == 1
    assert len(mail.outbox) == 1


def test_two_sendings_at_the_same_moment_store_one_case(seed):
    data = case_data()
    first, second = SubmissionForm(data), SubmissionForm(data)
    assert first.is_valid() and second.is_valid()  # neither has been stored yet
    stored = first.save(language="en")
    assert second.save(language="en") == stored
    assert Innovation.objects.count() == Submission.objects.count() == 1


def test_a_fresh_form_gets_a_fresh_token(client, seed):
    tokens = {hidden_value(client.get(SUBMIT).content.decode(), "token") for _ in range(2)}
    assert len(tokens) == 2


def test_a_broken_token_asks_to_send_again_with_a_new_one(client, seed):
    response = client.post(SUBMIT, case_data(token="not-a-token"))
    page = response.content.decode()
    assert "This form could not be checked; please send it again." in page
    uuid.UUID(hidden_value(page, "token"))
    assert "Open budget for Porto" in page
    assert not Innovation.objects.exists()


def test_the_slug_comes_from_the_title_and_is_unique(client, make_innovation):
    make_innovation(slug="open-budget-for-porto")
    client.post(SUBMIT, case_data(title="Open Budget for Porto!"))
    client.post(SUBMIT, case_data(title="Open budget for Porto"))
    client.post(SUBMIT, case_data(title="Submit"))  # /innovations/submit/ is the form
    client.post(SUBMIT, case_data(title="日本語"))
    assert set(Innovation.objects.filter(status="submitted").values_list("slug", flat=True)) == {
        "open-budget-for-porto-2",
        "open-budget-for-porto-3",
        "submit-2",
        "case",
    }


def test_a_filled_honeypot_is_answered_like_success_and_stores_nothing(
    client, seed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SUBMIT, case_data(comment="https://spam.example/"))
    assert response.status_code == 302
    assert response["Location"] == THANKS
    assert not Innovation.objects.exists()
    assert not Submission.objects.exists()
    assert not mail.outbox


def test_the_honeypot_is_hidden_from_people_and_screen_readers(client, seed):
    page = client.get(SUBMIT).content.decode()
    trap = page[page.index('<div class="hp"') : page.index("</div>", page.index('<div class="hp"'))]
    assert "hidden" in trap and 'aria-hidden="true"' in trap
    assert 'tabindex="-1"' in trap and 'autocomplete="off"' in trap


def test_the_rate_limit_answers_429_keeps_the_text_and_stores_nothing(client, seed, settings):
    settings.SUBMISSIONS_PER_HOUR = 2
    for _ in range(2):
        assert client.post(SUBMIT, case_data()).status_code == 302
    response = client.post(SUBMIT, case_data(title="One too many"))
    page = response.content.decode()
    assert response.status_code == 429
    assert "This address has sent the most cases we accept in an hour" in page
    assert 'value="One too many"' in page
    assert Innovation.objects.count() == 2
    # Another address is counted on its own.
    other = client.post(SUBMIT, case_data(), REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 302
    assert Innovation.objects.count() == 3


def test_errors_do_not_count_towards_the_rate_limit(client, seed, settings):
    settings.SUBMISSIONS_PER_HOUR = 1
    for _ in range(3):
        assert client.post(SUBMIT, case_data(title="")).status_code == 200
    assert client.post(SUBMIT, case_data()).status_code == 302


def test_a_mail_server_that_is_down_loses_nothing(
    client, seed, settings, django_capture_on_commit_callbacks
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SUBMIT, case_data())
    assert response["Location"] == THANKS
    assert Innovation.objects.get().status == "submitted"


def test_the_submitter_language_is_kept_for_later_emails(client, seed):
    client.post("/pt/innovations/submit/", case_data())
    assert Submission.objects.get().language == "pt"


def test_the_form_page_query_count_is_fixed(client, seed, django_assert_num_queries):
    # Countries, sectors, stages, recognitions, tags.
    with django_assert_num_queries(5):
        client.get(SUBMIT)


@pytest.mark.parametrize("many", [False, True])
def test_a_submission_query_count_does_not_grow_with_the_terms_chosen(
    client, seed, many, django_assert_num_queries
):
    data = case_data()
    if many:
        data["sectors"] = pks(Sector, *Sector.objects.values_list("slug", flat=True))
        data["tags"] = pks(Tag, *Tag.objects.values_list("slug", flat=True))
    # 22 to store the case, one to take turns choosing its slug, two to read and take
    # the address's count, and one for the confirmation email (tests run tasks at once).
    with django_assert_num_queries(26):
        assert client.post(SUBMIT, data).status_code == 302


# What only a browser shows


@pytest.fixture(scope="module")
def sync_database_access():
    """Playwright runs an event loop in the test's thread; the test still uses the database.

    Module-scoped, so that it outlasts the database teardown of the browser tests.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.mark.browser
def test_the_character_count_follows_typing_and_stops_at_the_limit(
    sync_database_access, seed, live_server, page
):
    from playwright.sync_api import expect

    page.goto(live_server.url + SUBMIT)
    counter = page.locator("#id_lessons_helptext .counter")
    expect(counter).to_have_text("0 / 1000 characters")
    page.locator("#id_lessons").press_sequentially("Twelve chars")
    expect(counter).to_have_text("12 / 1000 characters")
    page.locator("#id_lessons").fill("x" * 999)
    page.locator("#id_lessons").press_sequentially("abc")
    expect(counter).to_have_text("1000 / 1000 characters")
    expect(page.locator("#id_lessons")).to_have_value("x" * 999 + "a")


@pytest.mark.browser
def test_a_form_with_errors_comes_back_with_the_summary_focused(
    sync_database_access, seed, live_server, page
):
    from playwright.sync_api import expect

    page.goto(live_server.url + SUBMIT)
    page.locator("#id_overview").fill("Kept after the error.")
    page.get_by_role("button", name="Send for review").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#id_overview")).to_have_value("Kept after the error.")
    expect(page.locator("#id_overview_helptext .counter")).to_have_text("21 / 5000 characters")
    page.get_by_role("link", name="Title: This field is required.").click()
    expect(page.locator("#id_title")).to_be_focused()
    assert not Innovation.objects.exists()


def test_private_use_characters_never_reach_a_search_snippet(client, seed, editor):
    # Search marks its matches in snippets with private-use characters: text typed
    # with them must not open or close a <mark> of its own.
    odd = "Budget \ue000open\ue001 \ue001porto\ue000 for citizens \U000f0000."
    client.post(SUBMIT, case_data(short_explanation=odd))
    case = Innovation.objects.get()
    assert case.short_explanation == "Budget open porto for citizens ."
    case.transition("published", by=editor)
    page = client.get("/innovations/?q=citizens").content.decode()
    assert page.count("<mark>") == page.count("</mark>") == 1
