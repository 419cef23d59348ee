"""Periodic jobs, defined in code and written into django-celery-beat by
``manage.py setup_periodic_tasks`` (idempotent, matched by name)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str
    every_seconds: int
    queue: str
    description: str


PERIODIC_JOBS = (
    PeriodicJob(
        name="orchestrate batches",
        task="batches.orchestrate_sweep",
        every_seconds=60,
        queue="orchestration",
        description="Confirm, review, cancel or flag the batches that need a decision.",
    ),
    PeriodicJob(
        name="recover submitted orders",
        task="orders.recover_submitted",
        every_seconds=60,
        queue="orders",
        description="Re-trigger pooling for orders left submitted (lost message, broker outage).",
    ),
    PeriodicJob(
        name="prune job runs",
        task="analytics.prune_job_runs",
        every_seconds=24 * 3600,
        queue="analytics",
        description="Delete job runs older than the retention (SLEEKBATCH_JOB_RUN_RETENTION_DAYS, 30 days).",
    ),
    PeriodicJob(
        name="roll up daily stats",
        task="analytics.rollup_daily",
        every_seconds=3600,
        queue="analytics",
        description="Roll business events up into DailyStats for the days touched since the last run.",
    ),
)
