"""Daily rollups: business events → one ``DailyStats`` row per (day, product type).

Each chunk of days is one ``INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE`` in its own
transaction: the database reads the chunk's events once (a BRIN range on ``occurred_at``) and
no event row ever reaches Python, so a worker's memory does not grow with the data. The
update writes the recomputed figures (never ``+=``), so a rerun gives the same rows and two
concurrent runs cannot double anything; rows go in (day, product type) order, so two runs
lock them in the same order. Why it reads events, not the order and batch tables: see
docs/analytics.md.
"""

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Avg, Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce, Round, TruncDate
from django.utils import timezone

from analytics.models import DailyStats, RollupRun
from sleekbatch.models import BusinessEvent

logger = logging.getLogger(__name__)

Kind = BusinessEvent.Kind
CONFIRMED_KINDS = (Kind.BATCH_CONFIRMED, Kind.BATCH_APPROVED)
CLOSED_KINDS = (*CONFIRMED_KINDS, Kind.BATCH_CANCELLED)
ROLLED_UP_KINDS = (
    Kind.ORDER_SUBMITTED,
    Kind.ORDER_POOLED,
    Kind.ORDER_REJECTED,
    Kind.ORDER_DIRECT,
    Kind.BATCH_OPENED,
    Kind.BATCH_SENT_TO_REVIEW,
    *CLOSED_KINDS,
    Kind.REFUND_ISSUED,
)
_MONEY = DecimalField(max_digits=16, decimal_places=2)


def _count(*kinds) -> Count:
    return Count("id", filter=Q(kind__in=kinds))


def _money(*kinds) -> Coalesce:
    return Coalesce(Sum("amount", filter=Q(kind__in=kinds)), Value(Decimal("0")), output_field=_MONEY)


# One expression per DailyStats figure, named as its field.
FIGURES = {
    "orders_submitted": _count(Kind.ORDER_SUBMITTED),
    "units_submitted": Coalesce(Sum("quantity", filter=Q(kind=Kind.ORDER_SUBMITTED)), Value(0)),
    "orders_pooled": _count(Kind.ORDER_POOLED),
    "orders_rejected": _count(Kind.ORDER_REJECTED),
    "orders_direct": _count(Kind.ORDER_DIRECT),
    "revenue": _money(Kind.ORDER_DIRECT, *CONFIRMED_KINDS),
    "refunds": _count(Kind.REFUND_ISSUED),
    "refunded_amount": _money(Kind.REFUND_ISSUED),
    "batches_opened": _count(Kind.BATCH_OPENED),
    "batches_confirmed": _count(*CONFIRMED_KINDS),
    "batches_sent_to_review": _count(Kind.BATCH_SENT_TO_REVIEW),
    "batches_cancelled": _count(Kind.BATCH_CANCELLED),
    "avg_fill_percent_at_close": Round(Avg("fill_percent", filter=Q(kind__in=CLOSED_KINDS)), 2),
    "avg_hours_to_confirm": Round(
        Avg("duration_seconds", filter=Q(kind__in=CONFIRMED_KINDS), output_field=_MONEY) / Value(Decimal("3600")), 2
    ),
}


@dataclass(frozen=True)
class RollupChunk:
    first_day: date
    last_day: date
    rows: int
    seconds: float


@dataclass(frozen=True)
class RollupResult:
    first_day: date | None
    last_day: date | None
    days: int
    rows: int
    seconds: float


def analytics_zone() -> ZoneInfo:
    return ZoneInfo(settings.ANALYTICS_TIME_ZONE)


def day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the analytics zone (an aware datetime)."""
    return datetime.combine(day, datetime.min.time(), tzinfo=analytics_zone())


def daily_stats_rollup(
    *,
    first_day: date,
    last_day: date,
    chunk_days: int | None = None,
    progress: Callable[[RollupChunk], None] | None = None,
    mode: str = RollupRun.Mode.BACKFILL,
    started_at: datetime | None = None,
) -> RollupResult:
    """Recompute the rows of every day from ``first_day`` to ``last_day`` (inclusive), chunk by chunk."""
    if last_day < first_day:
        raise ValueError("last_day is before first_day")
    started_at = started_at or timezone.now()
    began = time.monotonic()
    rows = 0
    for chunk_first, chunk_last in _chunks(first_day, last_day, chunk_days or settings.ROLLUP_CHUNK_DAYS):
        chunk_began = time.monotonic()
        with transaction.atomic(durable=True):
            written = _upsert_days(chunk_first, chunk_last)
        rows += written
        chunk = RollupChunk(chunk_first, chunk_last, written, time.monotonic() - chunk_began)
        logger.info(
            "rollup.chunk",
            extra={
                "first_day": str(chunk_first),
                "last_day": str(chunk_last),
                "rows": written,
                "seconds": chunk.seconds,
            },
        )
        if progress is not None:
            progress(chunk)
    result = RollupResult(first_day, last_day, (last_day - first_day).days + 1, rows, time.monotonic() - began)
    _record_run(result, mode=mode, started_at=started_at)
    return result


def daily_stats_rollup_touched(
    *, now: datetime | None = None, progress: Callable[[RollupChunk], None] | None = None
) -> RollupResult:
    """The beat job: roll up the days that got events since the last incremental run started.

    Looks back ``ROLLUP_RECORDED_LAG`` before that start, so an event written by a
    transaction that was still open then (its ``recorded_at`` is earlier than its commit)
    is not missed. With no earlier run, every day that has events.
    """
    started_at = now or timezone.now()
    last = RollupRun.objects.filter(mode=RollupRun.Mode.INCREMENTAL).order_by("-started_at").first()
    events = BusinessEvent.objects.filter(kind__in=ROLLED_UP_KINDS)
    if last is not None:
        events = events.filter(recorded_at__gte=last.started_at - settings.ROLLUP_RECORDED_LAG)
    days = sorted(
        events.annotate(day=TruncDate("occurred_at", tzinfo=analytics_zone())).values_list("day", flat=True).distinct()
    )
    total = RollupResult(None, None, 0, 0, 0.0)
    for first_day, last_day in _contiguous_runs(days):
        result = daily_stats_rollup(
            first_day=first_day,
            last_day=last_day,
            progress=progress,
            mode=RollupRun.Mode.INCREMENTAL,
            started_at=started_at,
        )
        total = RollupResult(
            total.first_day or first_day,
            last_day,
            total.days + result.days,
            total.rows + result.rows,
            total.seconds + result.seconds,
        )
    if not days:
        _record_run(total, mode=RollupRun.Mode.INCREMENTAL, started_at=started_at)
    return total


def _record_run(result: RollupResult, *, mode: str, started_at: datetime) -> None:
    RollupRun.objects.create(
        mode=mode,
        started_at=started_at,
        first_day=result.first_day,
        last_day=result.last_day,
        days=result.days,
        rows=result.rows,
        seconds=round(result.seconds, 3),
    )


def _chunks(first_day: date, last_day: date, chunk_days: int) -> Iterator[tuple[date, date]]:
    day = first_day
    while day <= last_day:
        chunk_last = min(day + timedelta(days=chunk_days - 1), last_day)
        yield day, chunk_last
        day = chunk_last + timedelta(days=1)


def _contiguous_runs(days: list[date]) -> Iterator[tuple[date, date]]:
    run_first = previous = None
    for day in days:
        if previous is not None and day != previous + timedelta(days=1):
            yield run_first, previous
            run_first = None
        run_first = run_first or day
        previous = day
    if run_first is not None:
        yield run_first, previous


def daily_figures_from_events(*, first_day: date, last_day: date):
    """The rollup's SELECT: one row per (day, product type) with every figure, as a queryset."""
    return (
        BusinessEvent.objects.filter(
            occurred_at__gte=day_start(first_day),
            occurred_at__lt=day_start(last_day + timedelta(days=1)),
            kind__in=ROLLED_UP_KINDS,
        )
        .annotate(day=TruncDate("occurred_at", tzinfo=analytics_zone()))
        .values("day", "product_type")
        .annotate(**FIGURES)
        .order_by("day", "product_type")
    )


def _upsert_days(first_day: date, last_day: date) -> int:
    select_sql, select_params = daily_figures_from_events(
        first_day=first_day, last_day=last_day
    ).query.sql_with_params()
    quote = connection.ops.quote_name
    key = ["day", "product_type"]
    figures = list(FIGURES)
    columns = [DailyStats._meta.get_field(name).column for name in (*key, *figures)]
    updated_at = DailyStats._meta.get_field("updated_at").column
    # "WHERE 1 = 1": SQLite reads ON CONFLICT after a bare FROM as part of a join.
    sql = (
        f"INSERT INTO {quote(DailyStats._meta.db_table)} ({', '.join(map(quote, [*columns, updated_at]))}) "
        f"SELECT {', '.join(f'r.{quote(name)}' for name in (*key, *figures))}, %s "
        f"FROM ({select_sql}) AS r WHERE 1 = 1 "
        f"ON CONFLICT ({', '.join(quote(DailyStats._meta.get_field(name).column) for name in key)}) DO UPDATE SET "
        + ", ".join(f"{quote(column)} = excluded.{quote(column)}" for column in [*columns[len(key) :], updated_at])
    )
    now = DailyStats._meta.get_field("updated_at").get_db_prep_value(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, (now, *select_params))
        return cursor.rowcount
