"""Celery signal receivers: correlation ids across messages, one database connection per worker
child, a clear refusal to start a worker or beat without the database or the broker, and each
worker's watchdog (sleekbatch/watchdog.py)."""

from celery import signals
from django.conf import settings
from django.db import close_old_connections

from sleekbatch.celery import app
from sleekbatch.correlation import get_correlation_id, new_correlation_id, reset_correlation_id, set_correlation_id
from sleekbatch.services_check import ServiceUnavailable, check_broker, check_database
from sleekbatch.watchdog import watchdog_start, watchdog_stop


def task_hooks_connect() -> None:
    """Connect every receiver below (from ``SleekbatchConfig.ready()``, so once per process)."""
    signals.before_task_publish.connect(propagate_correlation_id, dispatch_uid="sleekbatch_propagate_correlation")
    signals.task_prerun.connect(enter_correlation_id, dispatch_uid="sleekbatch_enter_correlation")
    signals.task_postrun.connect(leave_correlation_id, dispatch_uid="sleekbatch_leave_correlation")
    signals.worker_init.connect(reuse_database_connections, dispatch_uid="sleekbatch_reuse_connections")
    signals.worker_init.connect(require_services, dispatch_uid="sleekbatch_require_services_worker")
    signals.beat_init.connect(require_services, dispatch_uid="sleekbatch_require_services_beat")
    signals.worker_ready.connect(watchdog_start, dispatch_uid="sleekbatch_watchdog_start")
    signals.worker_shutting_down.connect(watchdog_stop, dispatch_uid="sleekbatch_watchdog_stop")


def propagate_correlation_id(headers=None, **kwargs):
    if headers is not None and not headers.get("correlation_id"):
        correlation_id = get_correlation_id()
        if correlation_id:
            headers["correlation_id"] = correlation_id


def enter_correlation_id(task=None, **kwargs):
    correlation_id = getattr(task.request, "correlation_id", None) or new_correlation_id()
    task.request.correlation_token = set_correlation_id(correlation_id)


def leave_correlation_id(task=None, **kwargs):
    token = getattr(task.request, "correlation_token", None)
    if token is not None:
        try:
            reset_correlation_id(token)
        except ValueError:  # set in another context (eager tasks nest)
            pass


def reuse_database_connections(sender=None, **kwargs):
    """Keep one database connection per worker child across tasks.

    Celery's Django fixup closes every connection before and after each task
    (celery PR #9824), so each task would open a new PostgreSQL session. Here
    the fixup's per-task hooks are replaced by Django's own request-style
    lifecycle: ``close_old_connections`` drops a connection only when it is
    broken or older than CONN_MAX_AGE, as it does around a web request.
    """
    for db in settings.DATABASES.values():  # "default", and "replica" when there is one
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
    signals.task_prerun.connect(close_connections_of_finished_task, weak=False)
    signals.task_postrun.connect(close_connections_of_finished_task, weak=False)


def close_connections_of_finished_task(task=None, **kwargs):
    if getattr(task.request, "is_eager", False):
        return
    close_old_connections()


def require_services(**kwargs):
    """Fail a worker or beat start with one clear line when a service is down."""
    try:
        check_database()
        check_broker()
    except ServiceUnavailable as exc:
        raise SystemExit(f"sleekbatch: {exc}") from None
