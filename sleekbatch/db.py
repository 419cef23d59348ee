"""The read replica: heavy reads (reports, dashboards) go to ``DATABASE_REPLICA_URL`` when it is set.

Reads are routed to the replica only inside ``heavy_reads()``, never by default: an order intake
that reads right after it writes must see its own write, and a replica lags behind. Without a
replica configured, ``heavy_reads()`` changes nothing.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

REPLICA = "replica"

_heavy_reads: ContextVar[bool] = ContextVar("sleekbatch_heavy_reads", default=False)


@contextmanager
def heavy_reads() -> Iterator[None]:
    """Reads made inside this block (querysets *evaluated* inside it) go to the read replica."""
    token = _heavy_reads.set(True)
    try:
        yield
    finally:
        _heavy_reads.reset(token)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


class ReadReplicaRouter:
    def db_for_read(self, model, **hints):
        if _heavy_reads.get() and replica_configured():
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the same rows as the primary: an object read from either may relate.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica is migrated through its primary (replication), never directly.
        return db != REPLICA
