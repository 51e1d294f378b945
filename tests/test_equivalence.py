"""The index answers every query string exactly as the plain SQL of `oracle.py` does.

Hypothesis draws query strings over every parameter of the URL contract (every facet
with several values, known and unknown, repeated or comma-separated; the years; the
area; searches that match, match nothing, or only look like a title; every order; pages
in and out of range) and checks the ids and their order, the total, the page and every
facet count against the oracle, over a catalogue with drafts, archived cases, unknown
years and cases without locations of their own.
"""

import random
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from innovations.catalogue import freshness, postings
from innovations.models import Innovation

from . import oracle

WORDS = "open data portal budget lisbon porto health chatbot procurement citizens".split()
VALUES = {
    "country": ["PT", "ES", "FR", "BR", "NZ", "FJ", "pt", "ZZ"],
    "level": ["national", "regional", "local", "other", "galactic"],
    "sector": ["health", "education", "economic-affairs", "no-such-sector"],
    "stage": ["implementation", "evaluation", "generating-ideas"],
    "recognition": ["award-winner", "featured-case"],
    "tag": ["open-data", "chatbots", "skills", "transparency", "nope"],
}
UNKNOWN = {"ZZ", "galactic", "no-such-sector", "nope"}
SEARCHES = [
    "data",
    "portal",
    "chatbot",
    "porto or lisbon",
    "health -data or citizens",
    "-budget",
    '"open data"',
    "data -budget",
    "inovacao",
    "zzzqqq",  # matches nothing, looks like nothing
    "budgett portl",  # a typo: similar titles stand in
]
# The last holds cases near Porto but not their capital, Lisbon.
BOXES = ["-10,36,0,45", "-180,-90,180,90", "170,-25,-170,-10", "-60,-40,-30,0", "-9,40,-7,43"]


@pytest.fixture
def catalogue(make_innovation):
    rng = random.Random(11)
    places = {"NZ": (-41.3, 174.8), "FJ": (-17.7, 178.1), "PT": (41.15, -8.6), "BR": (-22.9, -43.2)}
    for number in range(70):
        country = rng.choice(["PT", "ES", "FR", "BR", "NZ", "FJ"])
        located = rng.random() < 0.5 and country in places
        title = " ".join(rng.sample(WORDS, 3)).capitalize()
        make_innovation(
            title=f"{title} {number}",
            short_explanation=" ".join(rng.choices(WORDS, k=8)) + ".",
            country=country,
            level=rng.choice(VALUES["level"][:4]),
            year=rng.choice([None, 2001, 2010, 2015, 2020, 2021]),
            latitude=places[country][0] + rng.random() if located else None,
            longitude=places[country][1] + rng.random() if located else None,
            status=rng.choice(["published"] * 5 + ["draft", "archived", "submitted"]),
            **{
                field: rng.sample(VALUES[facet][:-1], rng.randint(0, 2))
                for facet, field in oracle.TERMS.items()
                if facet != "recognition"
            },
            recognitions=rng.sample(VALUES["recognition"], rng.randint(0, 1)),
        )
    # Created in the same instant, so that the order by date leans on the ids too.
    Innovation.objects.filter(pk__in=Innovation.objects.order_by("pk")[:5]).update(
        created=Innovation.objects.order_by("pk").first().created
    )


@st.composite
def query_strings(draw):
    """(query string, the parameters it validly asks for)."""
    pairs, params = [], {}
    for facet, values in VALUES.items():
        chosen = draw(st.lists(st.sampled_from(values), max_size=3, unique=True))
        if not chosen:
            continue
        if draw(st.booleans()):
            pairs.append((facet, ",".join(chosen)))
        else:
            pairs.extend((facet, value) for value in chosen)
        normalised = (value.upper() if facet == "country" else value for value in chosen)
        known = list(dict.fromkeys(v for v in normalised if v not in UNKNOWN))
        if known:
            params[facet] = known
    for name in ("year_from", "year_to"):
        year = draw(st.none() | st.sampled_from([2000, 2010, 2015, 2020, 2021]))
        if year is not None:
            pairs.append((name, str(year)))
            params[name] = year
    text = draw(st.none() | st.sampled_from(SEARCHES))
    if text:
        pairs.append(("q", text))
        params["q"] = text
    box = draw(st.none() | st.sampled_from(BOXES))
    if box:
        pairs.append(("bbox", box))
        params["bbox"] = tuple(float(part) for part in box.split(","))
    order = draw(st.none() | st.sampled_from(["relevance", "newest", "added", "title"]))
    if order:
        pairs.append(("sort", order))
        params["sort"] = order
    page = draw(st.none() | st.integers(min_value=-1, max_value=4))
    if page is not None:
        pairs.append(("page", str(page)))
        params["page"] = page
    return urlencode(pairs), params


@pytest.fixture
def postings_behind(client, catalogue):
    """The catalogue searched from common words' postings built before some of its
    cases changed, which the postings take in as the index does."""
    postings.build()
    published = Innovation.objects.filter(status="published").order_by("pk")
    gaining, losing, leaving = published[:3]
    gaining.title = "Procurement chatbot for porto citizens"
    gaining.save()
    losing.short_explanation = "Nothing of note."
    losing.save()
    Innovation.objects.filter(pk=leaving.pk).update(status="archived")
    arriving = Innovation.objects.filter(status="draft").order_by("pk")
    Innovation.objects.filter(pk=arriving[0].pk).update(status="published")
    client.get("/innovations/")
    freshness.attach_postings()
    assert freshness.current_index().postings is not None


def answers_as_the_oracle(client, query):
    query_string, params = query
    data = client.get(f"/innovations/?format=json&{query_string}").json()
    expected = oracle.answer(params)
    slugs = dict(Innovation.objects.filter(pk__in=expected["ids"]).values_list("pk", "slug"))
    assert [row["slug"] for row in data["results"]] == [slugs[pk] for pk in expected["ids"]]
    assert (data["count"], data["page"]) == (expected["count"], expected["page"])
    for facet, options in data["facets"].items():
        shown = {option["value"]: option["count"] for option in options}
        counts = expected["facets"][facet]
        assert {value: shown[value] for value in shown if shown[value]} == counts, facet
        assert all(shown.get(value, 0) == count for value, count in counts.items()), facet


EXAMPLES = settings(
    max_examples=150,
    derandomize=True,  # the same examples on every run, so CI is repeatable
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@EXAMPLES
@given(query=query_strings())
def test_the_index_answers_as_the_sql_oracle(client, catalogue, query):
    answers_as_the_oracle(client, query)


@EXAMPLES
@given(query=query_strings())
def test_the_index_searching_postings_answers_as_the_sql_oracle(client, postings_behind, query):
    answers_as_the_oracle(client, query)


@settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    query=query_strings(),
    box=st.sampled_from(BOXES),
    zoom=st.integers(min_value=0, max_value=20),
)
def test_the_map_draws_every_case_the_oracle_finds_at_every_zoom(
    client, catalogue, query, box, zoom
):
    query_string, params = query
    if "bbox" not in params:  # a map always shows a box
        query_string += f"&bbox={box}"
        params["bbox"] = tuple(float(part) for part in box.split(","))
    data = client.get(f"/innovations/map.json?{query_string}&zoom={zoom}").json()
    drawn = sum(cluster[2] for cluster in data["clusters"]) + len(data["points"])
    assert drawn == data["count"] == oracle.answer(params)["count"]
