"""Reads for job metrics: per task name over a window of job runs."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Aggregate, Count, FloatField, Max, Q

from analytics.models import DailyStats, JobRun
from batches.models import ProductionBatch
from orders.models import Order


class _PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(f) WITHIN GROUP (ORDER BY …)``."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float):
        super().__init__(expression, fraction=float(fraction))


@dataclass(frozen=True)
class TaskMetrics:
    task_name: str
    runs: int
    succeeded: int
    failed: int
    retries: int
    success_rate: float | None
    p50_ms: float | None
    p95_ms: float | None
    max_ms: int | None
    runs_per_minute: float
    peak_rss_mib: float | None
    last_error: str
    last_error_at: datetime | None


def job_metrics_between(*, since: datetime, until: datetime) -> list[TaskMetrics]:
    """Per task name, the runs that finished in [since, until), by name.

    ``runs`` counts every execution, retried ones included; ``success_rate`` is the share of
    finished jobs (succeeded or failed for good) that succeeded, None when none finished.
    """
    runs = JobRun.objects.filter(finished_at__gte=since, finished_at__lt=until)
    aggregates = {
        "runs": Count("id"),
        "succeeded": Count("id", filter=Q(status=JobRun.Status.SUCCEEDED)),
        "failed": Count("id", filter=Q(status=JobRun.Status.FAILED)),
        "retries": Count("id", filter=Q(status=JobRun.Status.RETRYING)),
        "max_ms": Max("duration_ms"),
        "peak_rss_kib": Max("peak_rss_kib"),
    }
    postgres = connection.vendor == "postgresql"
    if postgres:
        aggregates["p50_ms"] = _PercentileCont("duration_ms", 0.5)
        aggregates["p95_ms"] = _PercentileCont("duration_ms", 0.95)
    rows = list(runs.values("task_name").annotate(**aggregates).order_by("task_name"))
    if not postgres:
        _add_percentiles_in_python(runs, rows)
    last_errors = _last_errors(runs)
    minutes = max((until - since).total_seconds() / 60, 1e-9)
    metrics = []
    for row in rows:
        finished = row["succeeded"] + row["failed"]
        error, error_at = last_errors.get(row["task_name"], ("", None))
        metrics.append(
            TaskMetrics(
                task_name=row["task_name"],
                runs=row["runs"],
                succeeded=row["succeeded"],
                failed=row["failed"],
                retries=row["retries"],
                success_rate=round(row["succeeded"] / finished, 4) if finished else None,
                p50_ms=_round(row["p50_ms"]),
                p95_ms=_round(row["p95_ms"]),
                max_ms=row["max_ms"],
                runs_per_minute=round(row["runs"] / minutes, 3),
                peak_rss_mib=round(row["peak_rss_kib"] / 1024, 1) if row["peak_rss_kib"] else None,
                last_error=error,
                last_error_at=error_at,
            )
        )
    return metrics


def _round(value):
    return None if value is None else round(value, 1)


def _last_errors(runs) -> dict[str, tuple[str, datetime]]:
    """The newest error (a failure, or a retried attempt) of each task name in the window."""
    errors = (
        runs.filter(status__in=[JobRun.Status.FAILED, JobRun.Status.RETRYING])
        .exclude(error="")
        .order_by("task_name", "-finished_at", "-id")
    )
    if connection.vendor == "postgresql":
        errors = errors.distinct("task_name")
        return {name: (error, at) for name, error, at in errors.values_list("task_name", "error", "finished_at")}
    newest: dict[str, tuple[str, datetime]] = {}
    for name, error, at in errors.values_list("task_name", "error", "finished_at"):
        newest.setdefault(name, (error, at))
    return newest


def _add_percentiles_in_python(runs, rows: list[dict]) -> None:
    # SQLite has no percentile aggregate; the embedded default holds few runs per window.
    durations: dict[str, list[int]] = {}
    for name, duration in (
        runs.exclude(duration_ms=None).order_by("task_name", "duration_ms").values_list("task_name", "duration_ms")
    ):
        durations.setdefault(name, []).append(duration)
    for row in rows:
        values = durations.get(row["task_name"], [])
        row["p50_ms"] = percentile_cont(values, 0.5)
        row["p95_ms"] = percentile_cont(values, 0.95)


def percentile_cont(sorted_values: list, fraction: float) -> float | None:
    """Linear interpolation between the closest ranks, as PostgreSQL's percentile_cont."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    lower = int(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * (position - lower)


def daily_stats_between(*, first_day, last_day, product_type: str | None = None):
    """DailyStats rows of the days from ``first_day`` to ``last_day`` (inclusive), by day, as dicts."""
    rows = DailyStats.objects.filter(day__gte=first_day, day__lte=last_day)
    if product_type:
        rows = rows.filter(product_type=product_type)
    fields = [field.name for field in DailyStats._meta.concrete_fields if field.name != "id"]
    return rows.order_by("day", "product_type").values(*fields)


@dataclass(frozen=True)
class PlatformGauges:
    orders_by_status: dict[str, int]
    batches_by_status: dict[str, int]
    oldest_submitted_at: float | None  # Unix times
    review_queue_length: int
    oldest_review_started_at: float | None
    last_sweep_at: float | None
    last_sweep_seconds: float | None


PLATFORM_GAUGES_CACHE_KEY = "sleekbatch:metrics:platform-gauges"


def platform_gauges() -> PlatformGauges:
    """Order and batch counts, the oldest waiting order and review, the last sweep: for /metrics.

    Counting every order by status reads the whole status index (millions of entries), so
    the answer is shared through the cache for METRICS_DATABASE_CACHE_SECONDS: scrapers and
    web processes pay for it once per period, not once per scrape.
    """
    cached = cache.get(PLATFORM_GAUGES_CACHE_KEY)
    if cached is not None:
        return cached
    gauges = _platform_gauges_from_database()
    cache.set(PLATFORM_GAUGES_CACHE_KEY, gauges, settings.METRICS_DATABASE_CACHE_SECONDS)
    return gauges


def _platform_gauges_from_database() -> PlatformGauges:
    orders = dict.fromkeys(Order.Status.values, 0)
    orders.update(Order.objects.order_by().values_list("workflow_status").annotate(n=Count("*")))
    batches = dict.fromkeys(ProductionBatch.Status.values, 0)
    batches.update(ProductionBatch.objects.order_by().values_list("batch_status").annotate(n=Count("*")))
    oldest_submitted = (
        Order.objects.filter(workflow_status=Order.Status.SUBMITTED)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    in_review = ProductionBatch.objects.filter(batch_status=ProductionBatch.Status.ADMIN_REVIEW)
    oldest_review = in_review.order_by("review_started_at").values_list("review_started_at", flat=True).first()
    last_sweep = (
        JobRun.objects.filter(task_name=SWEEP_TASK, status=JobRun.Status.SUCCEEDED)
        .order_by("-finished_at")
        .values_list("finished_at", "duration_ms")
        .first()
    )
    return PlatformGauges(
        orders_by_status=orders,
        batches_by_status=batches,
        oldest_submitted_at=_timestamp(oldest_submitted),
        review_queue_length=batches[ProductionBatch.Status.ADMIN_REVIEW],
        oldest_review_started_at=_timestamp(oldest_review),
        last_sweep_at=_timestamp(last_sweep[0]) if last_sweep else None,
        last_sweep_seconds=last_sweep[1] / 1000 if last_sweep and last_sweep[1] is not None else None,
    )


SWEEP_TASK = "batches.orchestrate_sweep"


def _timestamp(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None
