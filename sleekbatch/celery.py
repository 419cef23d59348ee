"""The Celery app.

Every task has an explicit, stable ``name=`` (beat stores names as strings) and
is routed by its name prefix to one queue per kind of work (see settings). The
app's signal receivers are in ``sleekbatch/task_hooks.py``, connected in
``SleekbatchConfig.ready()``.
"""

import logging
import os
from functools import partial

from celery import Celery
from celery.worker.consumer import Consumer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sleekbatch.settings")


def _load_settings_or_exit() -> None:
    """Load the settings now, so that a configuration error (an insecure SECRET_KEY, a bad
    DATABASE_URL) stops a worker, beat or web process with one line rather than a traceback."""
    try:
        settings.INSTALLED_APPS  # noqa: B018 - the access loads the settings module
    except ImproperlyConfigured as exc:
        raise SystemExit(f"sleekbatch: configuration error: {exc}") from None


_load_settings_or_exit()
# filesystem:// (the embedded default) with atomic message writes; see sleekbatch/broker.py.
TRANSPORT_ALIASES["filesystem"] = "sleekbatch.broker:Transport"


logger = logging.getLogger("sleekbatch.celery")


class PromptReconnectConsumer(Consumer):
    """The worker's consumer, reconnecting to a broker that went away every second, and
    surviving the loss of a Redis broker while it holds unacknowledged messages.

    Celery passes kombu's defaults (wait 2 s, then 4, 6 … up to 30 s) when it reconnects,
    so a worker noticed a broker back only up to 30 s late. A try is one TCP connect.
    """

    def on_connection_error_after_connected(self, exc):
        try:
            super().on_connection_error_after_connected(exc)
        except AttributeError:
            # kombu 5.7: closing the lost Redis connection tries to put the channel's
            # unacknowledged messages back through a client it has already dropped
            # ("'NoneType' object has no attribute 'hostname'"), and the worker exited with
            # "Unrecoverable error" (seen in tests/chaos, Redis stopped mid-drain). Those
            # messages stay in Redis' unacked set and are redelivered after the visibility
            # timeout; the worker goes on to reconnect.
            logger.warning("worker.broker_connection_close_failed", exc_info=True)

    def ensure_connected(self, conn):
        interval = settings.BROKER_RECONNECT_INTERVAL_SECONDS
        conn.ensure_connection = partial(
            conn.ensure_connection, interval_start=interval, interval_step=0, interval_max=interval
        )
        return super().ensure_connected(conn)


app = Celery("sleekbatch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
