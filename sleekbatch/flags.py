"""A flag shared by every process (web, workers, beat): set by one, cleared by another.

With REDIS_URL one raw ``SET NX EX`` through a client kept per process (why not Django's cache:
docs/order-intake.md); without, Django's cache (file based on the embedded default).
"""

from functools import cache as memoize

import redis
from django.conf import settings
from django.core.cache import cache

KEY_PREFIX = "sleekbatch:flag:"


@memoize
def _redis_client(url: str) -> redis.Redis:
    # redis-py's pool notices a fork (pid check) and opens new connections in the child.
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def shared_redis_client() -> redis.Redis | None:
    """This process's raw client of REDIS_URL, or None on the embedded default (no Redis)."""
    return _redis_client(settings.REDIS_URL) if settings.REDIS_URL else None


class SharedFlag:
    def __init__(self, name: str, *, ttl_seconds: int):
        self.key = KEY_PREFIX + name
        self.ttl_seconds = ttl_seconds

    def _client(self) -> redis.Redis | None:
        return shared_redis_client()

    def set_if_absent(self) -> bool:
        """Set the flag; True when this call set it, False when it was already set."""
        client = self._client()
        if client is None:
            return cache.add(self.key, 1, timeout=self.ttl_seconds)
        return bool(client.set(self.key, 1, nx=True, ex=self.ttl_seconds))

    def clear(self) -> None:
        client = self._client()
        if client is None:
            cache.delete(self.key)
        else:
            client.delete(self.key)

    def is_set(self) -> bool:
        client = self._client()
        if client is None:
            return cache.get(self.key) is not None
        return bool(client.exists(self.key))
