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
    # A crontab ("minute hour day_of_week", UTC) instead of the interval, for jobs tied to a time
    # of the week; every_seconds is then only the nominal period.
    crontab: str = ""


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
        name="send notification emails",
        task="orders.send_notification_emails",
        every_seconds=60,
        queue="orders",
        description="Send notification emails left pending (a lost message, a mail server that was down).",
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
    PeriodicJob(
        name="purge expired reports",
        task="reports.purge_expired",
        every_seconds=3600,
        queue="reports",
        description="Delete report files past SLEEKBATCH_REPORT_RETENTION_DAYS; fail reports whose worker vanished.",
    ),
    PeriodicJob(
        name="weekly reports",
        task="reports.send_weekly",
        every_seconds=7 * 24 * 3600,
        queue="reports",
        description="Mondays 06:00 UTC: email every ops user last week's report (their report subscription).",
        crontab="0 6 1",
    ),
    PeriodicJob(
        name="score suppliers",
        task="suppliers.score_all",
        every_seconds=24 * 3600,
        queue="analytics",
        description="Nightly 02:00 UTC: every supplier's scorecard and daily snapshot; opens and closes alerts.",
        crontab="0 2 *",
    ),
)
