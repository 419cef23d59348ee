"""Job runs: one JobRun row per finished, retried or failed task, for job metrics.

A failed job (a permanent error, or a transient one after its last retry) also
notifies staff by mail (settings.ADMINS).
"""

import logging
import resource
import time
from datetime import timedelta

from celery import signals
from django.core.mail import mail_admins
from django.utils import timezone

from sleekbatch.correlation import get_correlation_id

logger = logging.getLogger("sleekbatch.jobs")

# Tasks whose runs are not worth a row: Celery's own housekeeping.
IGNORED_PREFIXES = ("celery.",)


def _record(task, status: str, error: str = "") -> None:
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
        )
    except Exception:  # the database may be what failed; metrics must never mask the task's outcome
        logger.warning("jobrun.record_failed", extra={"task_name": name, "task_id": request.id}, exc_info=True)


@signals.task_prerun.connect
def _job_started(task=None, **kwargs):
    task.request.sleekbatch_started = time.monotonic()


@signals.task_success.connect
def _job_succeeded(sender=None, **kwargs):
    from analytics.models import JobRun

    _record(sender, JobRun.Status.SUCCEEDED)


@signals.task_retry.connect
def _job_retrying(sender=None, reason=None, **kwargs):
    from analytics.models import JobRun

    _record(sender, JobRun.Status.RETRYING, error=repr(reason))


@signals.task_failure.connect
def _job_failed(sender=None, task_id=None, exception=None, **kwargs):
    from analytics.models import JobRun

    error = f"{type(exception).__name__}: {exception}"
    _record(sender, JobRun.Status.FAILED, error=error)
    logger.error("job.failed", extra={"task_name": sender.name, "task_id": task_id, "error": error})
    mail_admins(f"job failed: {sender.name}", f"task {task_id} failed\n\n{error}", fail_silently=True)
