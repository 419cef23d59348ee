"""Writes of the analytics app: job-run retention, and ops re-sending a failed job."""

import functools
import logging
import uuid
from datetime import datetime

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from analytics.models import JobRun
from sleekbatch.audit import Action, audit_record

logger = logging.getLogger(__name__)


def job_runs_prune(*, older_than: datetime, chunk_size: int | None = None) -> int:
    """Delete job runs that finished before ``older_than``, one chunk per transaction; how many.

    Chunks keep each transaction short (a month of runs can be millions of rows), so the
    workers writing new runs never wait long behind the delete.
    """
    chunk_size = chunk_size or settings.JOB_RUN_PRUNE_CHUNK
    deleted = 0
    while True:
        with transaction.atomic(durable=True):
            ids = list(
                JobRun.objects.filter(finished_at__lt=older_than)
                .order_by("finished_at")
                .values_list("id", flat=True)[:chunk_size]
            )
            if ids:
                JobRun.objects.filter(id__in=ids).delete()
        deleted += len(ids)
        if len(ids) < chunk_size:
            break
    logger.info("job_runs.pruned", extra={"deleted": deleted, "older_than": older_than.isoformat()})
    return deleted


class JobRetryRefused(Exception):
    """A run that cannot be sent again: not a failure, already retried, or its arguments unknown."""


@transaction.atomic(durable=True)
def job_run_retry(*, job_run_id: int, actor, now: datetime | None = None) -> JobRun:
    """Send a failed job again with its arguments, once per failed run, audited; the task is
    published after the commit, under a new task id recorded on the run."""
    now = now or timezone.now()
    retry_task_id = uuid.uuid4().hex
    moved = JobRun.objects.filter(
        id=job_run_id, status=JobRun.Status.FAILED, retried_at__isnull=True, arguments__isnull=False
    ).update(retried_at=now, retry_task_id=retry_task_id)
    run = JobRun.objects.filter(id=job_run_id).first()
    if not moved:
        raise JobRetryRefused(_refusal(job_run_id, run))
    audit_record(
        actor=actor,
        action=Action.JOB_RETRY,
        obj=run,
        before={"retried_at": None, "retry_task_id": ""},
        after={"retried_at": now.isoformat(), "retry_task_id": retry_task_id, "arguments": run.arguments},
    )
    transaction.on_commit(
        functools.partial(
            current_app.send_task,
            run.task_name,
            args=run.arguments.get("args", []),
            kwargs=run.arguments.get("kwargs", {}),
            task_id=retry_task_id,
        )
    )
    logger.info("job_run.retried", extra={"task_name": run.task_name, "task_id": retry_task_id})
    return run


def _refusal(job_run_id, run: JobRun | None) -> str:
    if run is None:
        return f"Job run {job_run_id} does not exist."
    if run.status != JobRun.Status.FAILED:
        return f"{run.task_name} ({run.task_id}) did not fail ({run.status}); nothing was sent."
    if run.retried_at is not None:
        return f"{run.task_name} ({run.task_id}) was already sent again as {run.retry_task_id}; nothing was sent."
    return f"{run.task_name} ({run.task_id}) failed before its arguments were recorded; it cannot be sent again."
