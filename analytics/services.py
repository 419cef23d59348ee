"""Writes of the analytics app: job-run retention."""

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction

from analytics.models import JobRun

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
