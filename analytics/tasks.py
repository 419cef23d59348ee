"""Analytics tasks: thin adapters (queue ``analytics``)."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from analytics.rollups import daily_stats_rollup_touched
from analytics.services import job_runs_prune
from sleekbatch.tasks import RETRY_POLICY


@shared_task(name="analytics.prune_job_runs", **RETRY_POLICY)
def prune_job_runs() -> int:
    """Beat, daily: delete job runs older than the retention (JOB_RUN_RETENTION_DAYS)."""
    return job_runs_prune(older_than=timezone.now() - settings.JOB_RUN_RETENTION)


@shared_task(name="analytics.rollup_daily", **RETRY_POLICY)
def rollup_daily() -> dict:
    """Beat, hourly (the first run after midnight closes the day before): roll up the days touched."""
    result = daily_stats_rollup_touched()
    return {"days": result.days, "rows": result.rows, "seconds": round(result.seconds, 3)}
