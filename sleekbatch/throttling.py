"""Per-user request limits on the shared cache: 429 with ``Retry-After`` once a limit is reached.

Every request counts against its user's ``user`` rate (``anon`` per client address without
a token); a view may name a tighter scope (``throttle_scope = "orders_bulk"``, or a dict by
HTTP method), counted as well. Rates are settings (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]).

Counters are fixed windows (one key per user, scope and window, expiring with it), all counted
by one Lua script in one Redis command (cheaper for the client and Redis than a pipeline of an
INCR and an EXPIRE per limit), so every web process draws on the same count. DRF's own
throttles keep the timestamp of every request in a list that is read, unpickled, grown and
written back on each request: at a busy buyer's thousands of requests per window that cost
more than the order itself. The price of a fixed window is that a
client can spend up to twice its rate across a window boundary.
"""

import logging
import time
from functools import cache as memoize

import redis
from django.core.cache import cache
from redis.commands.core import Script
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from sleekbatch.flags import shared_redis_client

logger = logging.getLogger("sleekbatch.throttling")

KEY_PREFIX = "sleekbatch:throttle"
_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/min"`` → (600, 60): requests allowed per window of that many seconds."""
    count, _, period = rate.partition("/")
    return int(count), _PERIOD_SECONDS[period.strip()[0]]


# Adds one to each counter KEYS[i], gives a new one ARGV[i] seconds to live, returns the counts.
_COUNT_HITS_LUA = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[i], 'NX')
end
return counts
"""


@memoize
def _count_hits_script(client: redis.Redis) -> Script:
    # EVALSHA by the script's digest; redis-py loads it again after a Redis restart (NOSCRIPT).
    return client.register_script(_COUNT_HITS_LUA)


def count_hits(keys: list[tuple[str, int]]) -> list[int]:
    """Add one to each counter (key, seconds to live) and return the new counts."""
    client = shared_redis_client()
    if client is None:
        return [_count_in_django_cache(key, ttl) for key, ttl in keys]
    replies = _count_hits_script(client)(keys=[key for key, _ in keys], args=[ttl for _, ttl in keys])
    return [int(count) for count in replies]


def _count_in_django_cache(key: str, ttl: int) -> int:
    # The embedded default's file cache. Its incr() would reset the expiry, so the value
    # carries its own; get-then-set is not atomic across processes, so two processes may
    # each count one request fewer: fine for a single-host demo.
    now = time.time()
    count, expires_at = cache.get(key) or (0, now + ttl)
    cache.set(key, (count + 1, expires_at), timeout=max(1, expires_at - now))
    return count + 1


def read_counts(keys: list[str]) -> list[tuple[int, float]]:
    """(count, seconds left) of each counter, without counting."""
    client = shared_redis_client()
    if client is None:
        now = time.time()
        values = [cache.get(key) or (0, now) for key in keys]
        return [(count, max(0.0, expires_at - now)) for count, expires_at in values]
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.get(key)
        pipe.pttl(key)
    replies = pipe.execute()
    return [
        (int(value or 0), max(0.0, ttl_ms / 1000)) for value, ttl_ms in zip(replies[0::2], replies[1::2], strict=True)
    ]


def view_scope(view, method: str) -> str | None:
    scope = getattr(view, "throttle_scope", None)
    if isinstance(scope, dict):
        return scope.get(method)
    return scope


class UserRateThrottle(BaseThrottle):
    """The ``user`` (or ``anon``) rate plus the view's scope, per user, in one round trip."""

    def allow_request(self, request, view) -> bool:
        rates = api_settings.DEFAULT_THROTTLE_RATES
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ident, scopes = f"user-{user.pk}", ["user"]
        else:
            ident, scopes = f"addr-{self.get_ident(request)}", ["anon"]
        scope = view_scope(view, request.method)
        if scope is not None:
            scopes.append(scope)
        now = time.time()
        limits = []
        for name in scopes:
            if rates.get(name) is None:
                continue  # a scope without a rate is not limited (as in DRF)
            allowed, seconds = parse_rate(rates[name])
            window = int(now // seconds)
            limits.append((name, allowed, seconds, window))
        if not limits:
            return True
        try:
            counts = count_hits(
                [(f"{KEY_PREFIX}:{name}:{ident}:{window}", seconds + 1) for name, _, seconds, window in limits]
            )
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            # The shared cache is down: let the request through unlimited rather than fail it. An
            # order must still be accepted while Redis restarts (issue #8); limits resume with Redis.
            logger.warning("throttle.cache_unavailable", extra={"scopes": [name for name, *_ in limits]})
            self._wait = None
            return True
        waits = [
            (window + 1) * seconds - now
            for (name, allowed, seconds, window), count in zip(limits, counts, strict=True)
            if count > allowed
        ]
        self._wait = max(waits) if waits else None
        return not waits

    def wait(self) -> float | None:
        return self._wait
