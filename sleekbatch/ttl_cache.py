"""A per-process cache whose entries are trusted for a fixed time (the token and catalogue caches)."""

import threading
import time
from collections.abc import Hashable
from typing import Any

_MISSING = object()


class TTLCache:
    """``key → value``, each entry trusted for ``ttl_seconds`` after it was put.

    Reads take no lock (a dict lookup is atomic); writes do. Past ``max_entries`` the cache is
    emptied at once rather than evicting one by one: refilling costs one query per key, and the
    callers (tokens, one catalogue) rarely come near the limit.
    """

    def __init__(self, *, ttl_seconds: float, max_entries: int = 10_000):
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, default: Any = None) -> Any:
        entry = self._entries.get(key, _MISSING)
        if entry is _MISSING or time.monotonic() >= entry[0]:
            return default
        return entry[1]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries and key not in self._entries:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.ttl_seconds, value)

    def clear(self, **signal_kwargs) -> None:
        """Forget every entry (usable as a signal receiver)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
