"""Checks every Celery worker runs on a short timer of its own, beside its task pool.

A check is registered by the app that owns the work (``watchdog_register`` in its
``AppConfig.ready()``). The watchdog thread starts in each worker's main process once the
worker is ready, runs every check at once (a worker that starts picks up what was left
behind), then every ``WORKER_WATCHDOG_INTERVAL_SECONDS``. It needs no beat and no message,
so a lost or stranded message cannot stop it (docs/reliability.md).
"""

import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger("sleekbatch.watchdog")

_checks: list[Callable[[], object]] = []
_stopping = threading.Event()


def watchdog_register(check: Callable[[], object]) -> None:
    """Run ``check`` in every worker on the watchdog's timer (once per process, from AppConfig.ready)."""
    if check not in _checks:
        _checks.append(check)


def run_checks() -> None:
    """One round: every check, each on its own (one failing does not skip the others)."""
    for check in list(_checks):
        try:
            check()
        except Exception:  # a database or broker outage: the next round tries again
            logger.warning("watchdog.check_failed", extra={"check": check.__qualname__}, exc_info=True)
        finally:
            close_old_connections()  # drop a connection an outage broke; the next round opens a new one


def _run_forever() -> None:
    while not _stopping.is_set():
        run_checks()
        _stopping.wait(settings.WORKER_WATCHDOG_INTERVAL_SECONDS)


def watchdog_start(**kwargs) -> None:
    """On Celery's worker_ready (connected in SleekbatchConfig.ready)."""
    _stopping.clear()
    threading.Thread(target=_run_forever, name="sleekbatch-watchdog", daemon=True).start()


def watchdog_stop(**kwargs) -> None:
    """On Celery's worker_shutting_down."""
    _stopping.set()
