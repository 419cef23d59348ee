"""The Celery app.

Every task has an explicit, stable ``name=`` (beat stores names as strings) and
is routed by its name prefix to one queue per kind of work (see settings).
"""

import os

from celery import Celery, signals
from django.core.exceptions import ImproperlyConfigured
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sleekbatch.settings")


def _load_settings_or_exit() -> None:
    """Load the settings now, so that a configuration error (an insecure SECRET_KEY, a bad
    DATABASE_URL) stops a worker, beat or web process with one line rather than a traceback."""
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - the access loads the settings module
    except ImproperlyConfigured as exc:
        raise SystemExit(f"sleekbatch: configuration error: {exc}") from None


_load_settings_or_exit()
# filesystem:// (the embedded default) with atomic message writes; see sleekbatch/broker.py.
TRANSPORT_ALIASES["filesystem"] = "sleekbatch.broker:Transport"

app = Celery("sleekbatch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.before_task_publish.connect
def _propagate_correlation_id(headers=None, **kwargs):
    from sleekbatch.correlation import get_correlation_id

    if headers is not None and not headers.get("correlation_id"):
        correlation_id = get_correlation_id()
        if correlation_id:
            headers["correlation_id"] = correlation_id


@signals.task_prerun.connect
def _enter_correlation_id(task=None, **kwargs):
    from sleekbatch.correlation import new_correlation_id, set_correlation_id

    correlation_id = getattr(task.request, "correlation_id", None) or new_correlation_id()
    task.request.correlation_token = set_correlation_id(correlation_id)


@signals.task_postrun.connect
def _leave_correlation_id(task=None, **kwargs):
    from sleekbatch.correlation import reset_correlation_id

    token = getattr(task.request, "correlation_token", None)
    if token is not None:
        try:
            reset_correlation_id(token)
        except ValueError:  # set in another context (eager tasks nest)
            pass


@signals.worker_init.connect
def _reuse_database_connections(sender=None, **kwargs):
    """Keep one database connection per worker child across tasks.

    Celery's Django fixup closes every connection before and after each task
    (celery PR #9824), so each task would open a new PostgreSQL session. Here
    the fixup's per-task hooks are replaced by Django's own request-style
    lifecycle: ``close_old_connections`` drops a connection only when it is
    broken or older than CONN_MAX_AGE, as it does around a web request.
    """
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db.get("OPTIONS", {}).pop("pool", None):
        # psycopg's pool runs background threads, which do not survive the
        # prefork fork; a child keeps one persistent connection instead. No
        # connection exists yet at worker_init, so the changed settings apply.
        db["CONN_MAX_AGE"] = None
        db["CONN_HEALTH_CHECKS"] = True

    fixup = next((f for f in getattr(app, "_fixups", []) if hasattr(f, "worker_fixup")), None)
    if fixup is None:
        return
    worker_fixup = fixup.worker_fixup
    signals.task_prerun.disconnect(worker_fixup.on_task_prerun)
    signals.task_postrun.disconnect(worker_fixup.on_task_postrun)
    signals.task_prerun.connect(_close_old_connections, weak=False)
    signals.task_postrun.connect(_close_old_connections, weak=False)


def _close_old_connections(task=None, **kwargs):
    if getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@signals.worker_init.connect
@signals.beat_init.connect
def _require_services(**kwargs):
    """Fail a worker or beat start with one clear line when a service is down."""
    from sleekbatch.services_check import ServiceUnavailable, check_broker, check_database

    try:
        check_database()
        check_broker()
    except ServiceUnavailable as exc:
        raise SystemExit(f"sleekbatch: {exc}") from None
