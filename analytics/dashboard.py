"""Reads for the ops dashboard: one function per panel, each answered from an index.

Measured on the bench data (5 M orders, 500 k batches): every panel together under 300 ms
(the bench's ``rollup`` phase records ``dashboard_ms``). The index each one uses is named
in its docstring.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, F, Min, Q, Sum
from django.db.models.functions import Coalesce, TruncHour
from django.utils import timezone

from analytics.models import DailyStats, JobRun
from analytics.rollups import analytics_zone
from batches.models import ProductionBatch
from sleekbatch.models import BusinessEvent
from suppliers.selectors import supplier_alerts_open

FILL_BINS = 10  # open batches by fill, 0-10 %, …, 90-100 %
ORDER_HOURS = 48
JOB_HOURS = 12
RECENT_FAILURES = 10
DAILY_DAYS = 30
CENTS = Decimal("0.01")


def dashboard_panels(*, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    return {
        "generated_at": now,
        "batches_by_status": batches_by_status(),
        "open_fill_histogram": open_fill_histogram(),
        "review_queue": review_queue(now=now),
        "orders_per_hour": orders_per_hour(now=now),
        "jobs_per_hour": jobs_per_hour(now=now),
        "recent_failures": recent_failures(),
        "supplier_alerts": supplier_alerts(),
        "daily": daily_orders_and_revenue(now=now),
    }


def batches_by_status() -> dict[str, int]:
    """batch_status_created_idx (index-only: count(*), never a column the index lacks)."""
    counts = dict.fromkeys(ProductionBatch.Status.values, 0)
    counts.update(ProductionBatch.objects.order_by().values_list("batch_status").annotate(n=Count("*")))
    return counts


def open_fill_histogram() -> list[dict]:
    """batch_open_fill_idx (partial: open batches, by fill_basis_points; index-only)."""
    width = 10000 // FILL_BINS
    counted = dict(
        ProductionBatch.objects.filter(batch_status=ProductionBatch.Status.OPEN)
        .order_by()
        .annotate(bin=F("fill_basis_points") / width)
        .values_list("bin")
        .annotate(n=Count("*"))
    )
    bins = [counted.get(index, 0) for index in range(FILL_BINS)]
    bins[-1] += counted.get(FILL_BINS, 0)  # exactly 100 % goes in the top bin
    step = 100 // FILL_BINS
    return [{"from_percent": i * step, "to_percent": (i + 1) * step, "batches": n} for i, n in enumerate(bins)]


def review_queue(*, now: datetime) -> dict:
    """batch_status_created_idx: the few rows in admin_review."""
    in_review = ProductionBatch.objects.filter(batch_status=ProductionBatch.Status.ADMIN_REVIEW).order_by()
    figures = in_review.aggregate(length=Count("id"), oldest=Min("review_started_at"))
    oldest = figures["oldest"]
    return {
        "length": figures["length"],
        "oldest_started_at": oldest,
        "oldest_age_hours": round((now - oldest).total_seconds() / 3600, 1) if oldest else None,
    }


def orders_per_hour(*, now: datetime) -> list[dict]:
    """business_event_submitted_idx (partial: order_submitted events by time, with the quantity)."""
    first_hour = _hour(now) - timedelta(hours=ORDER_HOURS - 1)
    rows = (
        BusinessEvent.objects.filter(kind=BusinessEvent.Kind.ORDER_SUBMITTED, occurred_at__gte=first_hour)
        .order_by()
        .annotate(hour=TruncHour("occurred_at", tzinfo=analytics_zone()))
        .values("hour")
        .annotate(orders=Count("*"), units=Coalesce(Sum("quantity"), 0))
    )
    by_hour = {row["hour"]: row for row in rows}
    return [
        {
            "hour": hour,
            "orders": by_hour.get(hour, {}).get("orders", 0),
            "units": by_hour.get(hour, {}).get("units", 0),
        }
        for hour in _hours(first_hour, ORDER_HOURS)
    ]


def jobs_per_hour(*, now: datetime) -> list[dict]:
    """jobrun_finished_idx."""
    first_hour = _hour(now) - timedelta(hours=JOB_HOURS - 1)
    rows = (
        JobRun.objects.filter(finished_at__gte=first_hour)
        .order_by()
        .annotate(hour=TruncHour("finished_at", tzinfo=analytics_zone()))
        .values("hour")
        .annotate(runs=Count("id"), failed=Count("id", filter=Q(status=JobRun.Status.FAILED)))
    )
    by_hour = {row["hour"]: row for row in rows}
    panel = []
    for hour in _hours(first_hour, JOB_HOURS):
        runs = by_hour.get(hour, {}).get("runs", 0)
        failed = by_hour.get(hour, {}).get("failed", 0)
        panel.append(
            {"hour": hour, "runs": runs, "failed": failed, "error_rate": round(failed / runs, 4) if runs else 0.0}
        )
    return panel


def recent_failures() -> list[dict]:
    """jobrun_failed_idx (partial: failed runs by finished_at)."""
    return list(
        JobRun.objects.filter(status=JobRun.Status.FAILED)
        .order_by("-finished_at")
        .values("task_name", "task_id", "finished_at", "error", "correlation_id")[:RECENT_FAILURES]
    )


def supplier_alerts() -> list[dict]:
    """supplier_alert_open_idx: alerts not yet recovered (suppliers.selectors, as the admin lists them)."""
    return [
        {"opened_at": alert.opened_at, "supplier": alert.supplier.name, "kind": alert.kind, "message": alert.message}
        for alert in supplier_alerts_open()[:RECENT_FAILURES]
    ]


def daily_orders_and_revenue(*, now: datetime) -> list[dict]:
    """daily_stats_day_product_type (the unique index, by day): the rollups, all product types summed."""
    last_day = now.astimezone(analytics_zone()).date()
    first_day = last_day - timedelta(days=DAILY_DAYS - 1)
    rows = {
        row["day"]: row
        for row in DailyStats.objects.filter(day__gte=first_day, day__lte=last_day)
        .order_by()
        .values("day")
        .annotate(orders=Sum("orders_submitted"), revenue=Sum("revenue"))
    }
    return [
        {
            "day": day,
            "orders": rows.get(day, {}).get("orders") or 0,
            # a string with cents, as every amount in the API (SQLite sums decimals as floats)
            "revenue": str(Decimal(rows.get(day, {}).get("revenue") or 0).quantize(CENTS)),
        }
        for day in (first_day + timedelta(days=offset) for offset in range(DAILY_DAYS))
    ]


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(analytics_zone()).replace(minute=0, second=0, microsecond=0)


def _hours(first_hour: datetime, count: int) -> list[datetime]:
    return [first_hour + timedelta(hours=offset) for offset in range(count)]
