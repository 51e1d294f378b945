"""Synthetic cases for load tests: seeded, realistic, marked, and removable."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from innovations.catalogue import search
from innovations.management.commands import generate_cases
from innovations.models import Innovation, Tag

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def snapshot():
    return list(
        Innovation.objects.filter(is_synthetic=True)
        .order_by("slug")
        .values_list("slug", "title", "country_id", "level", "year", "latitude", "overview")
    ), sorted(
        Innovation.tags.through.objects.filter(innovation__is_synthetic=True).values_list(
            "innovation__slug", "tag__slug"
        )
    )


def test_the_same_seed_gives_the_same_cases(seed):
    call_command("generate_cases", count=60, seed=7, verbosity=0)
    first = snapshot()
    call_command("generate_cases", purge=True, verbosity=0)
    call_command("generate_cases", count=60, seed=7, verbosity=0)
    assert snapshot() == first
    call_command("generate_cases", purge=True, verbosity=0)
    call_command("generate_cases", count=60, seed=8, verbosity=0)
    assert snapshot() != first


def test_cases_stored_in_several_parts_are_those_stored_at_once(seed, monkeypatch):
    """Large counts are stored in parts, on several connections at once: how the cases
    are split changes neither them nor their search vectors."""
    call_command("generate_cases", count=60, seed=7, verbosity=0)
    whole = snapshot()
    vectors = Innovation.objects.filter(is_synthetic=True).order_by("slug")
    vectors = vectors.values_list("search_document__vector", flat=True)
    stored_at_once = list(vectors)
    call_command("generate_cases", purge=True, verbosity=0)
    monkeypatch.setattr(generate_cases, "PART", 7)
    call_command("generate_cases", count=60, seed=7, verbosity=0)
    assert snapshot() == whole
    assert list(vectors.all()) == stored_at_once


def test_generated_cases_are_marked_published_and_searchable(client, seed):
    call_command("generate_cases", count=200, seed=3, verbosity=0)
    cases = Innovation.objects.filter(is_synthetic=True)
    assert cases.count() == 200
    assert set(cases.values_list("status", flat=True)) == {"published"}
    assert not cases.filter(search_document=None).exists()
    assert cases.values("country").distinct().count() > 1
    assert Innovation.tags.through.objects.filter(innovation__is_synthetic=True).exists()
    case = cases.order_by("pk").first()
    data = client.get("/innovations/", {"format": "json", "q": case.title}).json()
    assert case.slug in [row["slug"] for row in data["results"]]
    assert "Synthetic case" in client.get(case.get_absolute_url()).content.decode()


def test_purge_removes_only_synthetic_cases(make_innovation):
    real = make_innovation(slug="real-case")
    call_command("generate_cases", count=30, seed=1, verbosity=0)
    call_command("generate_cases", purge=True, verbosity=0)
    assert list(Innovation.objects.values_list("slug", flat=True)) == [real.slug]


def test_generating_a_seed_twice_is_refused(seed):
    call_command("generate_cases", count=5, seed=2, verbosity=0)
    with pytest.raises(CommandError, match="run --purge first"):
        call_command("generate_cases", count=5, seed=2, verbosity=0)
    assert Innovation.objects.count() == 5


def test_bulk_loaded_vectors_are_those_a_save_would_store(seed):
    """Cases are loaded with COPY, their links first; their search vectors (tags, sectors
    and country included) must be what the database builds for a saved case."""
    call_command("generate_cases", count=40, seed=4, verbosity=0)
    cases = Innovation.objects.filter(is_synthetic=True).order_by("pk")
    vectors = cases.values_list("search_document__vector", flat=True)
    loaded = list(vectors)
    with connection.cursor() as cursor:
        ids = list(cases.values_list("pk", flat=True))
        cursor.execute("SELECT innovations_refresh_search(%s)", [ids])
    assert list(vectors.all()) == loaded
    tag = Tag.objects.filter(innovations__in=cases).first()
    assert cases.filter(tags=tag, search_document__vector=search.query(tag.name)).exists()


def test_words_are_drawn_as_in_real_text(seed):
    """Common words are common and rare words rare, so a search finds a realistic share."""
    call_command("generate_cases", count=300, seed=5, verbosity=0)
    common, rare = len(search.matches("public")[0]), len(search.matches("zoning")[0])
    assert common > 250 > 30 > rare
