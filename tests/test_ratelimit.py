"""The submission limit is one count that every process shares, taken atomically."""

import os
import threading

import pytest
from django.db import connection
from django.test import Client, RequestFactory

from innovations import ratelimit
from innovations.models import Innovation, RateCount

from .test_submit import SUBMIT, case_data

# The Redis database the tests may use (and empty of rate counts afterwards).
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/2")


@pytest.fixture(params=["database", "redis"])
def store(request, settings):
    """Each test runs once counting in PostgreSQL and once in Redis."""
    settings.REDIS_URL = TEST_REDIS_URL if request.param == "redis" else ""
    if request.param == "redis":
        client = ratelimit.redis_client(TEST_REDIS_URL)
        client.delete(*client.keys("ratelimit:*") or ["none"])
        yield request.param
        client.delete(*client.keys("ratelimit:*") or ["none"])
    else:
        yield request.param


def at_once(count, work):
    """Run `work` in `count` threads released together; return their results."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(n):
        try:
            barrier.wait()
            results[n] = work()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_submissions_at_once_store_exactly_the_limit(store, seed, settings):
    settings.SUBMISSIONS_PER_HOUR = 5
    titles = iter(f"Case number {n}" for n in range(20))
    statuses = at_once(20, lambda: Client().post(SUBMIT, case_data(title=next(titles))).status_code)
    assert sorted(statuses) == [302] * 5 + [429] * 15
    assert Innovation.objects.count() == 5


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_counts_taken_at_once_never_pass_the_limit(store):
    taken = at_once(12, lambda: ratelimit.take("test", "192.0.2.1", limit=3))
    assert taken.count(True) == 3
    assert ratelimit.used("test", "192.0.2.1") == 3


def test_a_refusal_uses_up_nothing(store, db):
    assert ratelimit.take("test", "192.0.2.1", limit=1)
    assert not ratelimit.take("test", "192.0.2.1", limit=1)
    assert ratelimit.used("test", "192.0.2.1") == 1
    ratelimit.reset("test", "192.0.2.1")
    assert ratelimit.used("test", "192.0.2.1") == 0


def test_an_ended_window_starts_again_from_one(db, settings):
    settings.REDIS_URL = ""
    ratelimit.add("test", "192.0.2.1")
    ratelimit.add("test", "192.0.2.1")
    RateCount.objects.update(expires="2000-01-01T00:00Z")
    assert ratelimit.used("test", "192.0.2.1") == 0
    assert ratelimit.add("test", "192.0.2.1") == 1


@pytest.mark.parametrize(
    ("proxies", "forwarded", "address"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no proxy: what it claims is ignored
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the client wrote the first
        (2, "198.51.100.1, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (2, "203.0.113.9", "10.0.0.1"),  # fewer hops than proxies: not through them
        (1, "not-an-address", "10.0.0.1"),
        (1, "", "10.0.0.1"),
    ],
)
def test_the_client_address_is_read_through_the_trusted_proxies(
    settings, proxies, forwarded, address
):
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert ratelimit.client_address(request) == address
