"""Common words' search postings: built off the request path, brought up to date with
the catalogue like its index, and answering exactly as PostgreSQL does."""

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from innovations.catalogue import freshness, postings, search
from innovations.models import Innovation, SearchPosting, SearchPostingsBuild, Tag

from .test_freshness import other_connection

LIST = "/innovations/"


def found(client, text):
    data = client.get(LIST, {"format": "json", "q": text}).json()
    return {row["slug"] for row in data["results"]}


def attached(client):
    """The postings of this process's index, once its refresh thread has had a round."""
    client.get(LIST)
    freshness.attach_postings()
    return freshness.current_index().postings


def searched_in_sql(client, text):
    """Whether searching for `text` asked PostgreSQL which vectors match the query."""
    with CaptureQueriesContext(connection) as context:
        client.get(LIST, {"format": "json", "q": text})
    return any('"vector" @@' in query["sql"] for query in context.captured_queries)


@pytest.fixture
def cases(make_innovation):
    make_innovation(slug="budget", title="Budget explorer", short_explanation="Open budget.")
    make_innovation(slug="portal", title="Open data portal", short_explanation="Open data.")
    make_innovation(slug="chatbot", title="Tax chatbot", short_explanation="Answers on tax.")
    make_innovation(
        slug="draft", title="Budget draft", short_explanation="Not yet.", status="draft"
    )


def test_a_search_of_common_words_is_answered_from_memory(client, cases):
    postings.build()
    assert attached(client) is not None
    assert not searched_in_sql(client, "open -budget or tax")
    assert found(client, "open -budget or tax") == {"portal", "chatbot"}


def test_a_phrase_is_left_to_the_database(client, cases):
    postings.build()
    attached(client)
    assert searched_in_sql(client, '"data portal"')
    assert found(client, '"data portal"') == {"portal"}


def test_a_word_the_postings_lack_is_looked_up_alone(client, cases, make_innovation):
    postings.build()
    attached(client)
    make_innovation(slug="zebra", title="Zebra crossing")  # a word new since the build
    with CaptureQueriesContext(connection) as context:
        assert found(client, "zebra or tax") == {"zebra", "chatbot"}
    vectors = [query["sql"] for query in context.captured_queries if "vector @@" in query["sql"]]
    assert len(vectors) == 1 and "::tsquery" in vectors[0]


@pytest.mark.parametrize(
    "text",
    [
        "open",
        "open budget",
        "open or tax",
        "-budget",
        "open -data",
        "tax or open -budget",
        "the",
        "zebra or open",
    ],
)
def test_the_postings_find_what_the_database_finds(cases, text):
    postings.build()
    stored = postings.Postings.read()
    every_case = list(Innovation.objects.values_list("pk", flat=True))
    memory, ranks = search.matches(text, stored)  # a rare word from the database
    database, database_ranks = search.matches(text)
    cases = np.isin(memory, every_case)  # a -word finds ids of no case too
    assert memory[cases].tolist() == database.tolist()
    assert ranks[cases].tolist() == database_ranks.tolist()


def test_the_whole_query_in_a_title_ranks_first_then_the_newest(client, make_innovation):
    make_innovation(slug="older-title", title="Budget explorer", year=2010)
    make_innovation(slug="newer-body", title="Explorer", short_explanation="Budget.", year=2020)
    make_innovation(slug="newer-title", title="Budget lens", year=2018)
    make_innovation(slug="newest-body", title="Lens", short_explanation="A budget.", year=2022)
    expected = ["newer-title", "older-title", "newest-body", "newer-body"]
    data = client.get(LIST, {"format": "json", "q": "budget"}).json()
    assert [row["slug"] for row in data["results"]] == expected
    postings.build()
    attached(client)
    data = client.get(LIST, {"format": "json", "q": "budget"}).json()
    assert [row["slug"] for row in data["results"]] == expected
    case = Innovation.objects.get(slug="newest-body")
    case.title = "Budget lens too"
    case.save()
    data = client.get(LIST, {"format": "json", "q": "budget"}).json()
    assert [row["slug"] for row in data["results"]] == ["newest-body", *expected[:2], "newer-body"]


def test_edits_publishing_and_unpublishing_reach_the_postings(client, cases):
    postings.build()
    assert attached(client) is not None
    case = Innovation.objects.get(slug="chatbot")
    case.short_explanation = "Answers on the budget."
    case.save()
    assert found(client, "budget") == {"budget", "chatbot"}
    Innovation.objects.get(slug="budget").transition("archived")
    Innovation.objects.get(slug="draft").transition("published")
    assert found(client, "budget") == {"draft", "chatbot"}
    case.short_explanation = "Answers on tax."
    case.save()
    assert found(client, "budget") == {"draft"}
    assert freshness.current_index().postings is not None
    assert not searched_in_sql(client, "budget")


def test_postings_built_before_a_change_take_it_in_when_attached(client, cases):
    postings.build()
    case = Innovation.objects.get(slug="chatbot")
    case.title = "Budget chatbot"
    case.save()
    Innovation.objects.filter(slug="portal").update(status="archived")
    assert attached(client) is not None
    assert found(client, "budget") == {"budget", "chatbot"}
    assert found(client, "open") == {"budget"}


def test_a_renamed_tag_has_the_postings_built_again(client, make_innovation):
    make_innovation(slug="tagged", title="Tagged", tags=["chatbots"])
    postings.build()
    assert attached(client) is not None
    tag = Tag.objects.get(slug="chatbots")
    tag.name = "Conversational agents"
    tag.save()
    # The index loads again, without postings: the database answers meanwhile.
    assert found(client, "conversational") == {"tagged"}
    assert freshness.current_index().postings is None
    built = SearchPostingsBuild.objects.get().built
    # The postings cannot be brought up to date: a build is queued (and, with the tests'
    # task backend, run at once), and the next round attaches the new ones.
    assert attached(client) is None
    assert SearchPostingsBuild.objects.get().built > built
    assert attached(client) is not None
    assert found(client, "conversational") == {"tagged"}
    assert not searched_in_sql(client, "conversational")


def test_a_case_added_past_the_postings_width_drops_them(client, cases, monkeypatch):
    monkeypatch.setattr(postings, "HEADROOM", 0)
    postings.build()
    assert attached(client) is not None
    Innovation.objects.create(
        pk=SearchPostingsBuild.objects.get().width,  # the first id past it
        title="Budget newcomer",
        slug="newcomer",
        short_explanation="New.",
        country_id="PT",
        level="local",
        status="published",
    )
    assert found(client, "budget") == {"budget", "newcomer"}
    assert freshness.current_index().postings is None


def test_pruning_the_change_log_builds_the_postings_first(cases):
    call_command("prune_changes", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert SearchPostingsBuild.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_build_with_a_write_held_open_takes_it_in_once_committed(client, make_innovation):
    make_innovation(slug="budget", title="Budget explorer")
    case = make_innovation(slug="portal", title="Open data portal")
    with other_connection() as writer:
        writer.execute(
            "UPDATE innovations_innovation SET title = 'Budget portal' WHERE id = %s", [case.pk]
        )
        # A later change, committed first: the build sees it, and not the one before.
        make_innovation(slug="later", title="Open budget")
        postings.build()
        writer.commit()
    assert attached(client) is not None
    assert found(client, "budget") == {"budget", "portal", "later"}
    assert found(client, "open") == {"later"}
    assert not searched_in_sql(client, "budget")


@pytest.mark.parametrize(
    ("written", "answer"),
    [
        ("'open'", [1, 2]),
        ("'open' & !'data'", [1]),
        ("'data' | 'tax' & !'open'", [2, 3]),
        ("!( 'open' | 'tax' )", [0, 4]),
        ("'open' <-> 'data'", None),
        ("'open':*", None),
        ("'rare'", []),  # looked up: no case has it
        ("'open' | 'rare'", [1, 2]),
        ("", []),
    ],
)
def test_the_postings_read_a_querys_text(make_innovation, written, answer):
    width = 64
    bits = postings.posting("open", [1, 2], [2], width)
    stored = postings.Postings(
        words={
            "open": np.frombuffer(bits.cases, dtype="u1"),
            "data": np.array([2], dtype="<i4"),
            "tax": np.array([3], dtype="<i4"),
        },
        titles={"open": np.array([2], dtype="<i4")},
        width=width,
        snapshot="1:1:",
        last_change=0,
        own="",
        built=None,
    )
    answered = stored.matching(written)
    if answer is None:
        assert answered is None
    else:
        found, _titled = answered
        assert found[found < 5].tolist() == answer


def test_words_less_common_are_read_from_the_stored_postings(client, cases, monkeypatch):
    monkeypatch.setattr(postings, "COMMON", 0.5)  # in memory: words in half the cases
    postings.build()
    held = attached(client)
    assert "tax" not in held.words and "open" in held.words
    # What the stored postings say is what answers: here, that the portal has "tax".
    portal = Innovation.objects.get(slug="portal").pk
    chatbot = Innovation.objects.get(slug="chatbot").pk
    stored = SearchPosting.objects.get(lexeme="tax")
    stored.cases = postings.posting("tax", [portal, chatbot], [], 64 * 8).cases
    stored.save()
    assert found(client, "tax") == {"portal", "chatbot"}
    # The cases changed since the build are read again.
    case = Innovation.objects.get(slug="budget")
    case.title = "Budget for tax"
    case.save()
    Innovation.objects.filter(slug="chatbot").update(title="Chatbot", short_explanation="Hi.")
    assert found(client, "tax") == {"portal", "budget"}
    assert found(client, "tax -budget") == {"portal"}


@given(width=st.integers(1, 300), data=st.data())
def test_a_posting_rewritten_holds_exactly_the_cases_it_should(width, data):
    # As bits or as ids, for a case or two (looked up one by one) and for many at once.
    ids = st.integers(0, width - 1)
    before = data.draw(st.sets(ids))
    changed = data.draw(st.sets(ids, min_size=1, max_size=30))
    now = data.draw(st.sets(st.sampled_from(sorted(changed))))
    bits = np.zeros(width, dtype=bool)
    bits[sorted(before)] = True
    for stored in (np.packbits(bits), np.array(sorted(before), dtype="<i4")):
        result = postings.rewritten(
            stored, np.array(sorted(changed)), np.array(sorted(now), dtype=np.int64)
        )
        assert set(postings.ids_of(result).tolist()) == (before - changed) | now
        assert (result is stored) == ((before & changed) == now)
