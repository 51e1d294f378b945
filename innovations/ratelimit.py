"""How often one client may do something, counted atomically where every process sees it.

With REDIS_URL set, counts live in Redis (INCR in a transaction with its expiry);
otherwise in PostgreSQL (one upsert). Either way every worker and every server shares
one count, and two requests at the same moment cannot both take the last place.
"""

import ipaddress
from functools import cache

import redis
from django.conf import settings
from django.db.models import F

from .models import RateCount

HOUR = 60 * 60


def client_address(request):
    """The visitor's address: REMOTE_ADDR, or with TRUSTED_PROXIES in front of the site,
    the address the outermost trusted proxy saw (X-Forwarded-For, counted from the
    right, where our proxies write; what the client wrote further left is ignored)."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return request.META.get("REMOTE_ADDR", "")


@cache
def redis_client(url):
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _key(scope, who):
    return f"ratelimit:{scope}:{who}"


def used(scope, who):
    """How many times `who` (an address, an account) did `scope` in the current window."""
    key = _key(scope, who)
    if settings.REDIS_URL:
        return int(redis_client(settings.REDIS_URL).get(key) or 0)
    count = RateCount.objects.live().filter(key=key).values_list("count", flat=True).first()
    return count or 0


def add(scope, who, period=HOUR):
    """Count one more `scope` for `who`, atomically; return the new count. A window
    starts with its first count and lasts `period` seconds."""
    key = _key(scope, who)
    if settings.REDIS_URL:
        with redis_client(settings.REDIS_URL).pipeline() as pipe:  # MULTI … EXEC
            count, _expiry = pipe.incr(key).expire(key, period, nx=True).execute()
        return count
    return RateCount.objects.add(key, period)


def take(scope, who, limit, period=HOUR):
    """Count one more `scope` if fewer than `limit` were counted; whether it was."""
    if add(scope, who, period) <= limit:
        return True
    undo(scope, who)  # a refusal uses up nothing
    return False


def undo(scope, who):
    key = _key(scope, who)
    if settings.REDIS_URL:
        redis_client(settings.REDIS_URL).decr(key)
    else:
        RateCount.objects.filter(key=key).update(count=F("count") - 1)


def reset(scope, who):
    key = _key(scope, who)
    if settings.REDIS_URL:
        redis_client(settings.REDIS_URL).delete(key)
    else:
        RateCount.objects.filter(key=key).delete()
