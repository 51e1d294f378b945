"""The catalogue's version changes when, and only when, what the public sees changes;
writers never wait for one another; every process sees a change on its next request."""

import gc
import io
import os
import subprocess
import sys
import threading
import time
import uuid
import weakref
from datetime import UTC, datetime

import hypothesis
import numpy as np
import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError, connection
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from innovations.catalogue import freshness, index, rows
from innovations.models import Country, Innovation, Sector, StatusChange, Submission, Tag

from .conftest import database_url

LIST = "/innovations/"


def version():
    return freshness.current_index().version


@pytest.fixture
def published(make_innovation):
    case = make_innovation(slug="visible", title="Visible", tags=["open-data"])
    version()  # the process's index is current
    return case


# What changes the version.


def test_editing_a_published_case_changes_the_version(published):
    before = version()
    published.short_explanation = "Changed."
    published.save()
    assert version() > before


def test_archiving_changes_the_version(published):
    before = version()
    published.transition("archived")
    assert version() > before
    assert not freshness.current_index().holds([published.pk])[0]


def test_publishing_changes_the_version(make_innovation, published):
    draft = make_innovation(slug="soon", status="draft")
    before = version()
    draft.transition("published")
    assert version() > before
    assert freshness.current_index().holds([draft.pk])[0]


def test_a_published_cases_terms_change_the_version(published):
    before = version()
    published.tags.add(Tag.objects.get(slug="chatbots"))
    assert version() > before


def test_renaming_a_term_in_use_changes_the_version(published):
    before = version()
    Tag.objects.filter(slug="open-data").update(name="Open government data")
    assert version() > before


def test_a_renamed_country_is_shown_on_the_next_pages(client, published):
    """The pages take each case's country from the index, which any change to a country
    loads again."""
    Country.objects.filter(code=published.country_id).update(name="Lusitania")
    assert "Lusitania" in client.get(LIST).content.decode()
    assert "Lusitania" in client.get(published.get_absolute_url()).content.decode()


def test_a_case_in_a_country_the_index_does_not_know_is_shown_with_it(published):
    """Between a page's version check and its rows, a case may move to a new country."""
    before = freshness.current_index()
    Country.objects.create(code="XK", name="Kosovo", latitude=42.67, longitude=21.17)
    Innovation.objects.filter(pk=published.pk).update(country_id="XK")
    [case] = rows.in_order(before, [published.pk])
    assert case.country.name == "Kosovo"
    assert rows.published(before, Innovation.objects.all(), slug="visible").country.name == (
        "Kosovo"
    )


# What leaves it alone.


def test_saving_a_draft_leaves_the_version(make_innovation, published):
    draft = make_innovation(slug="draft", status="draft")
    before = version()
    draft.title = "Still a draft"
    draft.save()
    draft.tags.add(Tag.objects.get(slug="chatbots"))
    assert version() == before


def test_a_submission_and_its_log_leave_the_version(client, published):
    before = version()
    case = Innovation.objects.create(
        title="Proposed",
        slug="proposed",
        short_explanation="A proposal.",
        country_id="PT",
        level="local",
        status="submitted",
    )
    case.sectors.add(Sector.objects.get(slug="health"))
    Submission.objects.create(innovation=case, token=uuid.uuid4(), name="Ana", email="a@b.pt")
    StatusChange.objects.create(innovation=case, to_status="submitted", note="Sent.")
    case.transition("returned", note="Please add a year.")
    assert version() == before


def test_an_editors_note_on_a_published_case_leaves_the_version(published):
    before = version()
    StatusChange.objects.create(innovation=published, to_status="published", note="Checked.")
    assert version() == before


def test_saving_a_published_case_unchanged_leaves_the_version(published):
    before = version()
    Innovation.objects.filter(pk=published.pk).update(title=published.title)
    assert version() == before


# The index follows: a patch for a few cases, a reload for many.


def assert_same_as_loaded(patched):
    freshness.forget()
    loaded = freshness.current_index()
    assert patched.version == loaded.version
    for name in ("ids", "country", "level", "year", "created", "latitude", "longitude", "located"):
        assert (getattr(patched, name) == getattr(loaded, name)).all(), name
    for key in patched.orders:
        assert (patched.orders[key] == loaded.orders[key]).all(), key
    for field in patched.terms:
        assert (patched.terms[field] == loaded.terms[field]).all(), field


def test_an_index_patched_with_new_cases_equals_a_loaded_one(make_innovation, published):
    for number in range(6):
        make_innovation(slug=f"more-{number}", title=f"Zebra {number}", year=2000 + number)
    published.title = "Aardvark"
    published.year = 2030 - 5
    published.save()
    assert_same_as_loaded(freshness.current_index())


def test_an_index_patched_with_edits_equals_a_loaded_one(make_innovation, published):
    others = [make_innovation(slug=f"other-{n}", title=f"M {n}", tags=["skills"]) for n in range(9)]
    version()
    published.title = "Zz last"
    published.year = 1999
    published.save()
    published.tags.set(Tag.objects.filter(slug__in=["chatbots", "transparency"]))
    others[3].tags.clear()
    others[4].title = "A first"
    others[4].save()
    assert_same_as_loaded(freshness.current_index())


def test_a_patch_finds_each_new_titles_place(make_innovation):
    cases = [make_innovation(slug=f"case-{n}", title=f"Case {n:02}") for n in range(12)]
    version()
    # First, between two, last, and beside a case of the same title (by id), together.
    titles = ["Aardvark", "Case 07 and a half", "Zebra", "Case 09"]
    for case, title in zip(cases[3:7], titles, strict=True):
        case.title = title
        case.save()
    make_innovation(slug="arrived", title="Case 01 and a half")
    assert_same_as_loaded(freshness.current_index())


def test_an_index_patched_as_cases_leave_and_arrive_equals_a_loaded_one(make_innovation):
    # Nine cases, so the terms' bits of the cases after a departure span bytes.
    cases = [
        make_innovation(slug=f"case-{n}", title=f"Case {n}", tags=["skills", "chatbots"][: n % 3])
        for n in range(9)
    ]
    version()
    cases[1].transition("archived")
    cases[6].transition("archived")
    make_innovation(slug="arrived", title="Arrived", tags=["chatbots", "transparency"])
    patched = freshness.current_index()
    assert len(patched) == 8
    assert_same_as_loaded(patched)


# Any few changes at once, of any kind, give the index a loaded one would have.
CHANGES = {
    "title": lambda n: {"title": ["Aardvark", "Mango", "Zebra", "Case 5"][n]},
    "year": lambda n: {"year": [None, 1999, 2015, 2024][n]},
    "added": lambda n: {"created": datetime(2020 + n, 1, 1, tzinfo=UTC)},
    "country": lambda n: {"country_id": ["PT", "ES", "BR", "NZ"][n]},
    "place": lambda n: [
        {"latitude": None, "longitude": None},
        {"latitude": 41.1, "longitude": -8.6},
        {"latitude": -22.9, "longitude": -43.2},
        {"latitude": 0, "longitude": 0},
    ][n],
    "archive": lambda n: {"status": "archived"},
    "publish": lambda n: {"status": "published"},
}
TAGS = [[], ["open-data"], ["chatbots", "skills"], ["open-data", "transparency"]]


@pytest.fixture
def twenty(make_innovation):
    """Twenty cases, in neighbouring ids (so their terms' bits share bytes)."""
    return [
        make_innovation(title=f"Case {n}", year=2000 + n % 5, tags=TAGS[n % 4]) for n in range(20)
    ]


@hypothesis.settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from([*CHANGES, "tags"]), st.integers(0, 19), st.integers(0, 3)),
        min_size=1,
        max_size=8,  # past FEW_MOVES: a patch's few-case way and its general one
    )
)
def test_an_index_patched_with_any_few_changes_equals_a_loaded_one(twenty, steps):
    version()  # loaded as it is now
    for kind, number, value in steps:
        case = twenty[number]
        if kind == "tags":
            case.tags.set(Tag.objects.filter(slug__in=TAGS[value]))
        else:
            Innovation.objects.filter(pk=case.pk).update(**CHANGES[kind](value))
    patched = freshness.current_index()
    assert_same_as_loaded(patched)


@hypothesis.settings(max_examples=300, derandomize=True, deadline=None)
# Bitsets are whole 64-bit words: a word's worth of cases fills them.
@given(
    data=st.data(),
    cases=st.one_of(st.sampled_from([0, 1, 63, 64, 128]), st.integers(0, 200)),
    terms=st.integers(0, 5),
)
def test_the_terms_bits_move_as_cases_leave_and_arrive(data, cases, terms):
    # A few cases shift every term's bits past them; more unpack each term's bits once.
    # Either way, as a plain unpacking of every bit would have it.
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    having_now = rng.random((terms, cases)) < 0.5
    bitsets = np.zeros((terms, index.bitset_bytes(cases)), dtype=np.uint8)
    if cases:
        bitsets[:, : (cases + 7) // 8] = np.packbits(having_now, axis=1)
    keep = np.ones(cases, dtype=bool)
    keep[sorted(data.draw(st.sets(st.integers(0, max(cases - 1, 0)), max_size=min(cases, 6))))] = (
        False
    )
    arriving = data.draw(st.lists(st.integers(0, int(keep.sum())), max_size=6).map(sorted))
    added = np.array(arriving, dtype=np.int64)
    having_added = rng.random((terms, len(added))) < 0.5
    links = np.nonzero(having_added)
    moved = index.moved_bits(bitsets, cases, np.flatnonzero(~keep), added, links)
    count = int(keep.sum()) + len(added)
    expected = np.zeros((terms, index.bitset_bytes(count)), dtype=np.uint8)
    for term in range(terms):
        bits = np.packbits(np.insert(having_now[term][keep], added, having_added[term]))
        expected[term, : len(bits)] = bits
    assert moved.shape == expected.shape
    assert (moved == expected).all()


@hypothesis.settings(max_examples=300, derandomize=True, deadline=None)
@given(data=st.data(), length=st.integers(0, 40))
def test_an_array_spliced_holds_what_deleting_then_inserting_gives(data, length):
    # A few moves join slices; more delete, then insert. Either way, the same array.
    values = np.arange(100, 100 + length, dtype=np.int64)
    positions = st.sets(st.integers(0, max(length - 1, 0)), max_size=min(length, 6))
    gone = np.array(sorted(data.draw(positions)), dtype=np.int64)
    kept = length - len(gone)
    added = np.array(data.draw(st.lists(st.integers(0, kept), max_size=6)), dtype=np.int64)
    new = np.arange(-len(added), 0, dtype=np.int64)
    spliced = index.spliced(values, gone, added, new)
    assert spliced.tolist() == np.insert(np.delete(values, gone), added, new).tolist()


# Writers and readers never wait on one another.


def other_connection():
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=connection.settings_dict["NAME"],
        user=db["USER"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        password=db["PASSWORD"] or None,
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_write_held_open_blocks_no_submission_and_no_reader(client, make_innovation):
    pk = make_innovation(slug="being-imported", title="Before").pk
    client.get(LIST)
    with other_connection() as writer:
        writer.execute("UPDATE innovations_innovation SET title = 'During' WHERE id = %s", [pk])
        started = time.monotonic()
        submitted = Innovation.objects.create(
            title="A submission",
            slug="a-submission",
            short_explanation="Sent meanwhile.",
            country_id="PT",
            level="local",
            status="submitted",
        )
        StatusChange.objects.create(innovation=submitted, to_status="submitted")
        published = make_innovation(slug="published-meanwhile", title="Meanwhile")
        page = client.get(f"{LIST}?format=json").json()
        assert time.monotonic() - started < 2
        assert {row["slug"] for row in page["results"]} == {"being-imported", "published-meanwhile"}
        assert "Before" in {row["title"] for row in page["results"]}
        writer.commit()
    titles = {row["title"] for row in client.get(f"{LIST}?format=json").json()["results"]}
    assert titles == {"During", published.title}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_publish_in_another_process_is_seen_by_the_next_request(client, make_innovation):
    case = make_innovation(slug="elsewhere", status="draft")
    assert client.get("/innovations/elsewhere/").status_code == 404
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            f"from innovations.models import Innovation; "
            f"Innovation.objects.get(pk={case.pk}).transition('published')",
        ],
        check=True,
        env={**os.environ, "DATABASE_URL": database_url()},
        cwd=settings.BASE_DIR,
    )
    assert client.get("/innovations/elsewhere/").status_code == 200


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_threads_wait_for_one_reload(make_many, seed):
    make_many(1500)  # more than a patch: every thread needs a full load
    loads = []
    original = freshness.load

    def counting(version):
        loads.append(version)
        return original(version)

    freshness.load = counting
    try:
        indexes = []

        def read():
            indexes.append(freshness.current_index())
            connection.close()

        threads = [threading.Thread(target=read) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        freshness.load = original
    assert len(loads) == 1
    assert len({id(index) for index in indexes}) == 1


def retitle_elsewhere(pk, title):
    with other_connection() as writer:
        writer.execute("UPDATE innovations_innovation SET title = %s WHERE id = %s", [title, pk])


def wait_for_a_new_version(before, seconds=5):
    """The version of the process's index once it is past `before`, looking without
    making a request (which would bring the index up to date itself)."""
    deadline = time.monotonic() + seconds
    while freshness._catalogue.index.version == before and time.monotonic() < deadline:
        time.sleep(0.01)
    return freshness._catalogue.index.version


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_change_is_applied_between_requests(make_innovation):
    case = make_innovation(slug="refreshed", title="Before")
    before = version()
    stop_refreshing = freshness.keep_current(0.02)
    try:
        retitle_elsewhere(case.pk, "After")
        assert wait_for_a_new_version(before) > before
        # What the unfiltered pages share is worked out ahead of them too.
        shared = {"term_totals", "ids_in_order"}
        deadline = time.monotonic() + 5
        while not shared <= vars(freshness._catalogue.index).keys():
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        stop_refreshing()


@pytest.fixture
def no_automatic_collection():
    """Python's cycle collector runs only when called, so that a test sees what frees what."""
    gc.disable()
    yield
    gc.enable()


@pytest.mark.parametrize(
    "address", ["/innovations/?format=json&tag=open-data", "/innovations/map.json?bbox=-9,38,-8,39"]
)
def test_a_data_page_lets_go_of_the_index_it_read(
    client, published, no_automatic_collection, address
):
    assert client.get(address).status_code == 200
    read = weakref.ref(freshness.current_index())
    freshness.forget()  # a change replaced the index
    assert read() is None


def held_in_a_cycle():
    """A weak reference to an array that only a reference cycle holds."""
    cycle = {"array": np.ones(1000)}
    cycle["itself"] = cycle
    return weakref.ref(cycle["array"])


def test_the_refresh_thread_collects_garbage_once_the_process_has_grown(
    monkeypatch, no_automatic_collection
):
    size = [100 << 20]  # the process's resident memory, as the thread sees it
    monkeypatch.setattr(freshness, "resident", lambda: size[0])
    stop_refreshing = freshness.keep_current(0.02)
    try:
        garbage = held_in_a_cycle()
        size[0] += freshness.GROWTH_BEFORE_COLLECTING // 2
        time.sleep(0.3)
        assert garbage() is not None  # not worth a collection yet
        size[0] += freshness.GROWTH_BEFORE_COLLECTING
        deadline = time.monotonic() + 5
        while garbage() is not None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        stop_refreshing()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_refresh_thread_leaves_loading_to_requests(make_innovation):
    make_innovation(slug="refreshed", title="Before")
    freshness.forget()  # a new process
    stop_refreshing = freshness.keep_current(0.02)
    try:
        time.sleep(0.3)
        assert freshness._catalogue.index is None
    finally:
        stop_refreshing()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_refresh_that_fails_is_logged_and_the_next_one_applies_the_change(
    make_innovation, monkeypatch, caplog
):
    case = make_innovation(slug="refreshed", title="Before")
    before = version()
    current, failed = freshness.Catalogue.current, []

    def failing_once(catalogue, **options):
        if not failed:
            failed.append(True)
            raise OperationalError("the connection to the server was lost")
        return current(catalogue, **options)

    monkeypatch.setattr(freshness.Catalogue, "current", failing_once)
    stop_refreshing = freshness.keep_current(0.02)
    try:
        retitle_elsewhere(case.pk, "After")
        assert wait_for_a_new_version(before) > before
    finally:
        stop_refreshing()
    assert failed
    assert "could not be brought up to date" in caplog.text


# HTTP caching by version.


def test_a_repeat_request_is_answered_304_after_one_query(
    client, published, django_assert_num_queries
):
    first = client.get(LIST)
    assert first["Cache-Control"] == "public, no-cache"
    with django_assert_num_queries(1):
        repeat = client.get(LIST, headers={"If-None-Match": first["ETag"]})
    assert repeat.status_code == 304
    assert repeat["ETag"] == first["ETag"]


def vary(response):
    return {header.strip().lower() for header in response["Vary"].split(",")}


@pytest.mark.parametrize(
    "url", [LIST, f"{LIST}?format=json", "/innovations/visible/", "/innovations/map.json"]
)
def test_a_304_varies_as_its_page_does(client, published, url):
    first = client.get(url)
    repeat = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert repeat.status_code == 304
    assert {"accept", "accept-encoding"} <= vary(first)
    assert vary(repeat) == vary(first)


def test_a_case_page_says_that_it_is_html_or_json_as_asked(client, published):
    html = client.get("/innovations/visible/")
    data = client.get("/innovations/visible/", headers={"Accept": "application/json"})
    assert data["Content-Type"] == "application/json"
    assert html["ETag"] != data["ETag"]
    assert "accept" in vary(html) and "accept" in vary(data)


def test_a_304_leaves_the_kept_pages_security_policy_alone(client, published):
    page = client.get("/innovations/visible/")
    assert "nonce-" in page["Content-Security-Policy"]
    repeat = client.get("/innovations/visible/", headers={"If-None-Match": page["ETag"]})
    assert repeat.status_code == 304
    assert "Content-Security-Policy" not in repeat


def test_a_publish_gives_a_new_etag(client, published, make_innovation):
    page = client.get("/innovations/visible/")
    draft = make_innovation(slug="next", status="draft")
    draft.transition("published")
    repeat = client.get("/innovations/visible/", headers={"If-None-Match": page["ETag"]})
    assert repeat.status_code == 200
    assert repeat["ETag"] != page["ETag"]


def test_the_etag_depends_on_the_language_and_the_query(client, published):
    tags = {client.get(url)["ETag"] for url in [LIST, "/pt/innovations/", f"{LIST}?level=local"]}
    assert len(tags) == 3
    assert client.get(LIST, headers={"Accept": "application/json"})["ETag"] not in tags


def test_pages_with_a_form_token_are_never_cached_publicly(client, published):
    assert "public" not in client.get("/innovations/submit/")["Cache-Control"]


# No planner setting outlives its query.


def test_a_search_leaves_the_connections_settings_as_they_were(client, published):
    client.get(f"{LIST}?q=visible")
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_seqscan")
        assert cursor.fetchone() == ("on",)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_loading_the_index_leaves_the_pages_time_limit_as_it_was(make_innovation):
    def time_limit():
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            return cursor.fetchone()[0]

    make_innovation(slug="loaded", title="Loaded")
    connection.close()  # a new connection, with the pages' limit
    before = time_limit(), connection.answer_timeout
    freshness.forget()
    assert version()  # loads the index, with a longer limit
    assert (time_limit(), connection.answer_timeout) == before


# The change log is pruned without changing the version or losing a change.


def change_rows():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM innovations_catalogue_change")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pruning_keeps_the_version_and_the_etag(client, make_innovation):
    make_innovation(slug="kept", title="Kept")
    etag = client.get(LIST)["ETag"]
    before = version()
    assert change_rows() > 0
    call_command("prune_changes", "--older-than=0", stdout=io.StringIO())
    assert change_rows() == 0
    freshness.forget()  # another process, starting after the pruning
    assert version() == before
    assert client.get(LIST, headers={"if-none-match": etag}).status_code == 304


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_process_that_missed_pruned_changes_loads_again(client, make_innovation):
    client.get(LIST)  # this process looks, then sleeps
    with other_connection() as writer:  # another server publishes, and prunes later
        writer.execute(
            "UPDATE innovations_innovation SET status = 'published' WHERE id = %s",
            [make_innovation(slug="while-asleep", status="draft").pk],
        )
    call_command("prune_changes", "--older-than=0", stdout=io.StringIO())
    assert change_rows() == 0
    assert client.get("/innovations/while-asleep/").status_code == 200


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pruning_leaves_recent_changes(make_innovation):
    make_innovation(slug="recent", title="Recent")
    rows = change_rows()
    out = io.StringIO()
    call_command("prune_changes", stdout=out)
    assert change_rows() == rows
    assert "Pruned 0 rows" in out.getvalue()
