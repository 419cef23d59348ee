"""Report tasks, on the ``reports`` queue (routed by the ``reports.`` name prefix)."""

from celery import Task, shared_task
from django.conf import settings

from analytics.reports import services
from sleekbatch.tasks import RETRY_POLICY


class _GenerateReportTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # After the last retry of a transient error (or a time limit) the report must not stay
        # "running" for ever; a permanent error has already been recorded by the service.
        report_id = kwargs.get("report_id") or (args[0] if args else None)
        if report_id:
            services.report_fail(report_id=report_id, reason=f"{type(exc).__name__}: {exc}")


@shared_task(
    name="reports.generate",
    base=_GenerateReportTask,
    soft_time_limit=settings.REPORT_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.REPORT_TASK_SOFT_TIME_LIMIT + 60,
    **RETRY_POLICY,
)
def generate_report(report_id: str) -> None:
    services.report_generate(report_id=report_id)


@shared_task(name="reports.purge_expired", **RETRY_POLICY)
def purge_expired_reports() -> dict:
    return services.reports_purge_expired()
