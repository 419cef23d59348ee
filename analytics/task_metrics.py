"""Task counters and histograms, kept in Redis so that every web process serves the same values.

Producers, worker main processes and worker children on any host add to the same hashes
(one pipelined round trip per Celery signal); ``GET /metrics`` reads them back. Names and
labels are celery-exporter's (see docs/metrics.md). Without REDIS_URL (the embedded
default) nothing is recorded: there is no store every process shares cheaply.

A failure to record is logged at debug level and swallowed: metrics must never fail a task
or a publish.
"""

import json
import logging
import math
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache as memoize

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

PREFIX = "sleekbatch:metrics:"
# prometheus_client's default buckets (celery-exporter's), extended to the 300 s task time limit.
RUNTIME_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 30.0, 60.0, 300.0)
# Enqueue → start: from a busy queue's milliseconds to a backlog's minutes.
QUEUE_WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
WORKERS_KEY = PREFIX + "workers"


@memoize
def _client(url: str) -> redis.Redis:
    # redis-py's pool notices a fork (pid check) and opens new connections in the child.
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def metrics_client() -> redis.Redis | None:
    return _client(settings.REDIS_URL) if settings.REDIS_URL else None


def _field(labels: tuple) -> str:
    return json.dumps(list(labels), separators=(",", ":"))


class Recording:
    """One pipeline of increments, sent when the block ends (``with recording() as r: …``)."""

    def __init__(self, client: redis.Redis):
        self.pipe = client.pipeline(transaction=False)

    def inc(self, family: str, labels: tuple, amount: int = 1) -> None:
        self.pipe.hincrby(PREFIX + family, _field(labels), amount)

    def observe(self, family: str, labels: tuple, value: float, buckets: tuple) -> None:
        le = next((bound for bound in buckets if value <= bound), math.inf)
        self.pipe.hincrby(f"{PREFIX}{family}:bucket", _field((*labels, _le(le))), 1)
        self.pipe.hincrbyfloat(f"{PREFIX}{family}:sum", _field(labels), value)
        self.pipe.hincrby(f"{PREFIX}{family}:count", _field(labels), 1)

    def worker_seen(self, hostname: str, at: float) -> None:
        self.pipe.hset(WORKERS_KEY, hostname, at)


@contextmanager
def recording() -> Iterator[Recording | None]:
    """``with recording() as r: r.inc(…)``: one round trip at the end; None without Redis."""
    client = metrics_client()
    if client is None:
        yield None
        return
    batch = Recording(client)
    try:
        yield batch
        batch.pipe.execute()
    except Exception:  # never let a metric fail the caller
        logger.debug("task_metrics.record_failed", exc_info=True)


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


# --- reading back ----------------------------------------------------------------------------


@dataclass
class Histogram:
    labels: tuple
    buckets: list  # [(le, cumulative count)], ending with +Inf
    count: int
    sum: float


def read_counter(family: str) -> dict[tuple, int]:
    client = metrics_client()
    if client is None:
        return {}
    return {tuple(json.loads(field)): int(value) for field, value in client.hgetall(PREFIX + family).items()}


def read_histogram(family: str, buckets: tuple) -> list[Histogram]:
    client = metrics_client()
    if client is None:
        return []
    pipe = client.pipeline(transaction=False)
    for part in ("bucket", "sum", "count"):
        pipe.hgetall(f"{PREFIX}{family}:{part}")
    raw_buckets, sums, counts = pipe.execute()
    per_labels: dict[tuple, dict[str, int]] = defaultdict(dict)
    for field, value in raw_buckets.items():
        *labels, le = json.loads(field)
        per_labels[tuple(labels)][le] = int(value)
    histograms = []
    for field, count in counts.items():
        labels = tuple(json.loads(field))
        observed = per_labels.get(labels, {})
        cumulative, rows = 0, []
        for bound in (*buckets, math.inf):
            cumulative += observed.get(_le(bound), 0)
            rows.append((_le(bound), cumulative))
        histograms.append(Histogram(labels, rows, int(count), float(sums.get(field, 0))))
    return histograms


def read_workers() -> dict[str, float]:
    """Worker hostname → the time (epoch seconds) it was last seen alive; 0 after a clean shutdown."""
    client = metrics_client()
    if client is None:
        return {}
    return {name.decode(): float(value) for name, value in client.hgetall(WORKERS_KEY).items()}


def now() -> float:
    return time.time()
