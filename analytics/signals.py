"""Celery receivers of analytics: job runs and the task metrics Prometheus reads.

Job runs: one JobRun row per finished, retried or failed task, for job metrics.

A failed job (a permanent error, or a transient one whose retry budget is spent) also
notifies staff by mail (settings.ADMINS), at most once per task name per interval
(sleekbatch/job_failures.py).
"""

import json
import logging
import resource
import socket
import time
from datetime import datetime, timedelta

from celery import signals
from django.utils import timezone

from analytics import task_metrics
from sleekbatch.business_events import business_events_enabled
from sleekbatch.correlation import get_correlation_id
from sleekbatch.job_failures import job_failure_notify
from sleekbatch.models import BusinessEvent

logger = logging.getLogger("sleekbatch.jobs")


def analytics_receivers_connect() -> None:
    """Connect every receiver below (from ``AnalyticsConfig.ready()``, so once per process)."""
    for signal, receiver in (
        (signals.task_prerun, _job_started),
        (signals.task_success, _job_succeeded),
        (signals.task_retry, _job_retrying),
        (signals.task_failure, _job_failed),
        (signals.before_task_publish, _task_sent),
        (signals.task_received, _task_received),
        (signals.task_prerun, _task_started_metrics),
        (signals.task_postrun, _task_finished_metrics),
        (signals.task_failure, _task_failed_metrics),
        (signals.task_success, _sweep_decisions),
        (signals.worker_ready, _worker_alive),
        (signals.heartbeat_sent, _worker_alive),
        (signals.worker_shutdown, _worker_stopped),
    ):
        signal.connect(receiver, dispatch_uid=f"analytics{receiver.__name__}:{signal.name}")


# Tasks whose runs are not worth a row: Celery's own housekeeping.
IGNORED_PREFIXES = ("celery.",)


def _record(task, status: str, error: str = "", arguments: dict | None = None) -> None:
    from analytics.models import JobRun

    name = getattr(task, "name", "") or ""
    if name.startswith(IGNORED_PREFIXES):
        return
    request = task.request
    started = getattr(request, "sleekbatch_started", None)
    duration_ms = int((time.monotonic() - started) * 1000) if started else None
    delivery = getattr(request, "delivery_info", None) or {}
    finished_at = timezone.now()
    try:
        JobRun.objects.create(
            task_name=name,
            task_id=request.id or "",
            status=status,
            queue=delivery.get("routing_key") or "",
            started_at=finished_at - timedelta(milliseconds=duration_ms) if duration_ms is not None else None,
            finished_at=finished_at,
            duration_ms=duration_ms,
            retries=request.retries or 0,
            # Linux reports ru_maxrss in KiB: the child's peak so far, this run included.
            peak_rss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            error=error[:4000],
            correlation_id=get_correlation_id(),
            arguments=arguments,
        )
    except Exception:  # the database may be what failed; metrics must never mask the task's outcome
        logger.warning("jobrun.record_failed", extra={"task_name": name, "task_id": request.id}, exc_info=True)


def _job_started(task=None, **kwargs):
    task.request.sleekbatch_started = time.monotonic()


def _job_succeeded(sender=None, **kwargs):
    from analytics.models import JobRun

    _record(sender, JobRun.Status.SUCCEEDED)


def _job_retrying(sender=None, reason=None, **kwargs):
    from analytics.models import JobRun

    _record(sender, JobRun.Status.RETRYING, error=repr(reason))


def _job_failed(sender=None, task_id=None, exception=None, args=None, kwargs=None, **extra):
    from analytics.models import JobRun

    error = f"{type(exception).__name__}: {exception}"
    _record(sender, JobRun.Status.FAILED, error=error, arguments=_json_arguments(args, kwargs))
    _record_business_event(sender.name, error)
    logger.error("job.failed", extra={"task_name": sender.name, "task_id": task_id, "error": error})
    job_failure_notify(task_name=sender.name, task_id=task_id, error=error)


def _json_arguments(args, kwargs) -> dict | None:
    """The arguments a retry would send again, if they survive JSON unchanged (ids, strings, numbers)."""
    arguments = {"args": list(args or ()), "kwargs": dict(kwargs or {})}
    try:
        return arguments if json.loads(json.dumps(arguments)) == arguments else None
    except (TypeError, ValueError):
        return None


def _record_business_event(task_name: str, error: str) -> None:
    # One row on a failure, not on the hot path; like the job run, never masks the task's outcome.
    if not business_events_enabled() or task_name.startswith(IGNORED_PREFIXES):
        return
    try:
        BusinessEvent.objects.create(
            kind=BusinessEvent.Kind.JOB_FAILED,
            occurred_at=timezone.now(),
            task_name=task_name,
            reason=error[:4000],
            correlation_id=get_correlation_id(),
        )
    except Exception:
        logger.warning("job.failed_event_not_recorded", extra={"task_name": task_name}, exc_info=True)


# --- task metrics for Prometheus (celery-exporter's names and labels) ---------------------------

SENT_AT_HEADER = "sleekbatch_sent_at"


def _labels(task) -> tuple[str, str, str]:
    request = task.request
    queue = (getattr(request, "delivery_info", None) or {}).get("routing_key") or ""
    return task.name, request.hostname or socket.gethostname(), queue


def _skip(name: str | None) -> bool:
    return not name or name.startswith(IGNORED_PREFIXES)


def _task_sent(sender=None, headers=None, routing_key=None, **kwargs):
    if headers is None or _skip(sender):
        return
    # Stamped on every publish (a retry is a new message): the worker measures the wait from it.
    headers[SENT_AT_HEADER] = time.time()
    with task_metrics.recording() as metrics:
        if metrics is not None:
            metrics.inc("celery_task_sent_total", (sender, socket.gethostname(), routing_key or ""))


def _task_received(request=None, **kwargs):
    if request is None or _skip(request.name):
        return
    queue = (request.delivery_info or {}).get("routing_key") or ""
    with task_metrics.recording() as metrics:
        if metrics is not None:
            metrics.inc("celery_task_received_total", (request.name, request.hostname or "", queue))


def _task_started_metrics(task=None, **kwargs):
    if task is None or _skip(task.name) or task.request.is_eager:
        return
    name, hostname, queue = _labels(task)
    wait = _queue_wait_seconds(task.request)
    with task_metrics.recording() as metrics:
        if metrics is not None:
            metrics.inc("celery_task_started_total", (name, hostname, queue))
            if wait is not None:
                metrics.observe("celery_task_queue_wait_time", (name, queue), wait, task_metrics.QUEUE_WAIT_BUCKETS)


def _queue_wait_seconds(request) -> float | None:
    """Enqueue (or the ETA of a delayed message, such as a retry's countdown) → now."""
    sent_at = getattr(request, SENT_AT_HEADER, None)
    if not isinstance(sent_at, int | float):
        return None
    start = sent_at
    if request.eta:
        try:
            start = max(start, datetime.fromisoformat(request.eta).timestamp())
        except (TypeError, ValueError):
            pass
    return max(time.time() - start, 0.0)


def _task_finished_metrics(task=None, state=None, **kwargs):
    if task is None or _skip(task.name) or task.request.is_eager:
        return
    started = getattr(task.request, "sleekbatch_started", None)
    name, hostname, queue = _labels(task)
    with task_metrics.recording() as metrics:
        if metrics is None:
            return
        if state == "SUCCESS":
            metrics.inc("celery_task_succeeded_total", (name, hostname, queue))
        elif state == "RETRY":
            metrics.inc("celery_task_retried_total", (name, hostname, queue))
        if started is not None:
            runtime = time.monotonic() - started
            metrics.observe("celery_task_runtime", (name, hostname, queue), runtime, task_metrics.RUNTIME_BUCKETS)


def _task_failed_metrics(sender=None, exception=None, **kwargs):
    if sender is None or _skip(sender.name) or sender.request.is_eager:
        return
    name, hostname, queue = _labels(sender)
    with task_metrics.recording() as metrics:
        if metrics is not None:
            metrics.inc("celery_task_failed_total", (name, hostname, queue, type(exception).__name__))


def _sweep_decisions(sender=None, result=None, **kwargs):
    # The sweep returns its decisions by outcome (batches.orchestrate_sweep, a stable name).
    if sender is None or sender.name != "batches.orchestrate_sweep" or not isinstance(result, dict):
        return
    with task_metrics.recording() as metrics:
        if metrics is not None:
            for outcome in SWEEP_OUTCOMES:
                if result.get(outcome):
                    metrics.inc("sleekbatch_sweep_decisions_total", (outcome,), int(result[outcome]))


SWEEP_OUTCOMES = ("confirmed", "sent_to_review", "cancelled", "nearing_target")


def _worker_alive(sender=None, **kwargs):
    _worker_seen(sender, time.time())


def _worker_stopped(sender=None, **kwargs):
    _worker_seen(sender, 0)


def _worker_seen(sender, at: float) -> None:
    # worker_ready's sender is the consumer, heartbeat_sent's the heart (its eventer knows the
    # name), worker_shutdown's the worker itself.
    hostname = getattr(sender, "hostname", None) or getattr(getattr(sender, "eventer", None), "hostname", None)
    if not hostname:
        return
    with task_metrics.recording() as metrics:
        if metrics is not None:
            metrics.worker_seen(str(hostname), at)
