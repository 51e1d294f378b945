"""How often one address may do something, counted in Django's cache.

With the default in-process cache each server process counts on its own; set
REDIS_URL so that all processes share one count.
"""

from django.core.cache import cache

HOUR = 60 * 60


def _key(request, scope):
    return f"ratelimit:{scope}:{request.META.get('REMOTE_ADDR', '')}"


def is_limited(request, scope, limit):
    """Whether this address has already done `scope` `limit` times this hour."""
    return cache.get(_key(request, scope), 0) >= limit


def count(request, scope):
    """Count one more `scope` for this address; the count starts over an hour after its first."""
    key = _key(request, scope)
    cache.add(key, 0, HOUR)
    try:
        cache.incr(key)
    except ValueError:  # it expired between add() and incr()
        cache.set(key, 1, HOUR)
