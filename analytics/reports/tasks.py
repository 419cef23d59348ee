"""Report tasks, on the ``reports`` queue (routed by the ``reports.`` name prefix)."""

import smtplib

from celery import shared_task
from django.conf import settings

from analytics.reports import scheduled, services
from sleekbatch.tasks import RETRY_POLICY, RetryTransientErrors


class _GenerateReportTask(RetryTransientErrors):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # After the last retry of a transient error (or a time limit) the report must not stay
        # "running" for ever; a permanent error has already been recorded by the service.
        report_id = kwargs.get("report_id") or (args[0] if args else None)
        if report_id:
            services.report_fail(report_id=report_id, reason=f"{type(exc).__name__}: {exc}")


@shared_task(
    name="reports.generate",
    base=_GenerateReportTask,  # transient errors retry on the shared time budget
    soft_time_limit=settings.REPORT_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.REPORT_TASK_SOFT_TIME_LIMIT + 60,
)
def generate_report(report_id: str) -> None:
    services.report_generate(report_id=report_id)


@shared_task(name="reports.purge_expired", **RETRY_POLICY)
def purge_expired_reports() -> dict:
    return services.reports_purge_expired()


@shared_task(name="reports.send_weekly", **RETRY_POLICY)
def send_weekly_reports() -> dict:
    """Beat, Mondays: request last week's report for every ops user (emailed once generated)."""
    run = scheduled.weekly_reports_request()
    return {"first_day": str(run.period[0]), "requested": run.requested, "already_done": run.already_done}


class _DeliverReportTask(RetryTransientErrors):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        delivery_id = kwargs.get("delivery_id") or (args[0] if args else None)
        if delivery_id:
            scheduled.report_delivery_fail(delivery_id=delivery_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(
    name="reports.deliver",
    base=_DeliverReportTask,
    # A mail server that refuses or drops the connection, or a report still being written, is
    # worth another try; spaced out up to half an hour (about 1.5 hours in all).
    autoretry_for=(scheduled.DeliveryNotReady, smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=6,
)
def deliver_report(delivery_id: int) -> None:
    scheduled.report_delivery_send(delivery_id=delivery_id)
