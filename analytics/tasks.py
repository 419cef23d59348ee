"""Analytics tasks: thin adapters (queue ``analytics``)."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from analytics.services import job_runs_prune
from sleekbatch.tasks import RETRY_POLICY


@shared_task(name="analytics.prune_job_runs", **RETRY_POLICY)
def prune_job_runs() -> int:
    """Beat, daily: delete job runs older than the retention (JOB_RUN_RETENTION_DAYS)."""
    return job_runs_prune(older_than=timezone.now() - settings.JOB_RUN_RETENTION)
