"""What each report kind contains: its columns, the rows of one report, and its summary.

A kind reads its rows as ``values_list`` tuples from a server-side cursor in chunks of
``REPORT_CHUNK_ROWS`` and turns each into a tuple of typed values (``str``, ``int``, ``Decimal``,
``date``, ``datetime``), which every writer then formats its own way. The queries run on the read
replica when there is one (the caller wraps generation in ``sleekbatch.db.heavy_reads``).
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import CharField, Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from analytics.models import DailyStats
from analytics.reports.models import Report, ReportKind
from analytics.selectors import daily_stats_between
from batches.fill import fill_percent
from batches.models import BatchContribution, ProductionBatch
from orders.models import Order
from sleekbatch.roles import BUYER, OPS, SUPPLIER
from suppliers.models import SupplierOrder


class ReportTooLarge(Exception):
    """More rows than the format holds (a PDF over REPORT_PDF_MAX_ROWS); the message says what to do."""


class ColumnType(enum.StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    MONEY = "money"
    DECIMAL = "decimal"  # two decimals, not money
    PERCENT = "percent"  # a Decimal percent: 75.12 means 75.12 %
    DATE = "date"
    DATETIME = "datetime"  # timezone-aware, UTC


@dataclass(frozen=True)
class Column:
    header: str
    type: ColumnType
    width: int  # in characters: the XLSX column width and the PDF column's share of the page
    # The PDF shows at most this many characters (ids: the first 8 are enough to tell rows apart).
    pdf_chars: int | None = None
    # Text no user wrote (ids, statuses): the CSV writer skips the formula check on it.
    generated: bool = False


@dataclass
class Chart:
    title: str
    labels: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    value_label: str = ""


class Summary:
    """Totals of a report, added up row by row as the rows stream past (so they match the detail)."""

    def add(self, row: tuple) -> None:
        raise NotImplementedError

    def lines(self) -> list[tuple[str, object, ColumnType]]:
        raise NotImplementedError

    def chart(self) -> Chart:
        raise NotImplementedError


@dataclass(frozen=True)
class KindSpec:
    kind: str
    title: str
    columns: tuple[Column, ...]
    # Roles that may request this kind ("ops" always may).
    roles: frozenset[str]
    queryset: Callable[[Report], QuerySet]
    to_row: Callable[[tuple], tuple]
    summary: Callable[[Report], Summary]
    supplier_filter: bool = True

    def rows(self, report: Report) -> Iterator[tuple]:
        to_row = self.to_row
        for values in self.queryset(report).iterator(chunk_size=settings.REPORT_CHUNK_ROWS):
            yield to_row(values)

    def count(self, report: Report) -> int:
        return self.queryset(report).count()


def period_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """The report's days as a half-open UTC interval: ``date_to`` is included whole."""
    start = datetime.combine(date_from, time.min, tzinfo=UTC)
    return start, datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=UTC)


def _bucket_of(report: Report) -> Callable[[date], date]:
    """Days for a range of up to 62 days, else weeks (starting Monday): a chart stays legible."""
    if (report.date_to - report.date_from).days < 62:
        return lambda day: day
    return lambda day: day - timedelta(days=day.weekday())


def _bucket_labels(report: Report) -> list[date]:
    bucket_of = _bucket_of(report)
    labels, day = [], report.date_from
    while day <= report.date_to:
        bucket = bucket_of(day)
        if not labels or labels[-1] != bucket:
            labels.append(bucket)
        day += timedelta(days=1)
    return labels


class _UnitsByDay:
    def __init__(self, report: Report):
        self.report = report
        self.bucket_of = _bucket_of(report)
        self.units: dict[date, int] = defaultdict(int)

    def add(self, moment: datetime, units: int) -> None:
        self.units[self.bucket_of(moment.astimezone(UTC).date())] += units

    def chart(self, title: str) -> Chart:
        weekly = (self.report.date_to - self.report.date_from).days >= 62
        chart = Chart(title=f"{title} by {'week' if weekly else 'day'}", value_label="units")
        for bucket in _bucket_labels(self.report):
            chart.labels.append(bucket.strftime("%d %b"))
            chart.values.append(self.units.get(bucket, 0))
        return chart


# --- orders -------------------------------------------------------------------------------------

ORDER_COLUMNS = (
    Column("Order ID", ColumnType.TEXT, 38, pdf_chars=8, generated=True),
    Column("Buyer", ColumnType.TEXT, 18),
    Column("Product type", ColumnType.TEXT, 14),
    Column("Quantity", ColumnType.INTEGER, 10),
    Column("Styles", ColumnType.TEXT, 24),
    Column("Unit price", ColumnType.MONEY, 12),
    Column("Total price", ColumnType.MONEY, 14),
    Column("Status", ColumnType.TEXT, 11, generated=True),
    Column("Batch", ColumnType.TEXT, 38, pdf_chars=8, generated=True),
    Column("Supplier", ColumnType.TEXT, 20),
    Column("Submitted at (UTC)", ColumnType.DATETIME, 20),
    Column("Pooled at (UTC)", ColumnType.DATETIME, 20),
    Column("Decided at (UTC)", ColumnType.DATETIME, 20),
)


def _orders_queryset(report: Report) -> QuerySet:
    start, end = period_bounds(report.date_from, report.date_to)
    orders = Order.objects.filter(created_at__gte=start, created_at__lt=end)
    if report.scope == BUYER:
        orders = orders.filter(buyer_id=report.requested_by_id)
    elif report.scope != OPS:
        return orders.none()
    if report.product_type:
        orders = orders.filter(product_type=report.product_type)
    if report.supplier_id:
        orders = orders.filter(
            Q(contribution__batch__supplier_id=report.supplier_id)
            | Q(direct_supplier_order__supplier_id=report.supplier_id)
        )
    return orders.order_by("created_at", "id").values_list(
        "id",
        "buyer__username",
        "product_type",
        "quantity",
        _style_names(),
        "unit_price",
        "total_price",
        "workflow_status",
        "contribution__batch_id",
        Coalesce("contribution__batch__supplier__name", "direct_supplier_order__supplier__name"),
        "created_at",
        "pooled_at",
        # A pooled order is decided with its batch; a direct order when its supplier order is placed.
        Coalesce(
            "contribution__batch__confirmed_at",
            "contribution__batch__cancelled_at",
            "direct_supplier_order__created_at",
        ),
    )


def _style_names() -> RawSQL:
    """The order's style names joined by ", ", by the database: decoding every order's JSON in
    Python was a fifth of a million-row CSV's time."""
    column = '"orders_order"."style_details"'
    if settings.IS_POSTGRES:
        sql = (
            f"(SELECT string_agg(item->>'style', ', ' ORDER BY position) "
            f"FROM jsonb_array_elements({column}) WITH ORDINALITY AS styles(item, position))"
        )
    else:
        sql = (
            "(SELECT group_concat(style, ', ') FROM "
            f"(SELECT json_extract(value, '$.style') AS style FROM json_each({column}) ORDER BY key))"
        )
    return RawSQL(sql, (), output_field=CharField())


def _order_row(values: tuple) -> tuple:
    (order_id, buyer, product_type, quantity, style_names, unit, total, status, batch, supplier, *times) = values
    return (
        str(order_id),
        buyer,
        product_type,
        quantity,
        style_names or "",
        unit,
        total,
        status,
        str(batch) if batch else None,
        supplier,
        *times,
    )


class OrderSummary(Summary):
    def __init__(self, report: Report):
        self.orders = 0
        self.units = 0
        self.value = Decimal("0.00")
        self.by_status: Counter[str] = Counter()
        self.by_day = _UnitsByDay(report)

    def add(self, row: tuple) -> None:
        self.orders += 1
        self.units += row[3]
        if row[6] is not None:
            self.value += row[6]
        self.by_status[row[7]] += 1
        self.by_day.add(row[10], row[3])

    def lines(self):
        lines = [
            ("Orders", self.orders, ColumnType.INTEGER),
            ("Units", self.units, ColumnType.INTEGER),
            ("Order value", self.value, ColumnType.MONEY),
        ]
        for status in Order.Status:
            lines.append((f"Orders {status.label.lower()}", self.by_status.get(status.value, 0), ColumnType.INTEGER))
        return lines

    def chart(self) -> Chart:
        return self.by_day.chart("Units ordered")


# --- batches ------------------------------------------------------------------------------------

BATCH_COLUMNS = (
    Column("Batch ID", ColumnType.TEXT, 38, pdf_chars=8, generated=True),
    Column("Product type", ColumnType.TEXT, 14),
    Column("Supplier", ColumnType.TEXT, 20),
    Column("Status", ColumnType.TEXT, 13),
    Column("Target", ColumnType.INTEGER, 9),
    Column("Pooled", ColumnType.INTEGER, 9),
    Column("Fill %", ColumnType.PERCENT, 9),
    Column("Orders", ColumnType.INTEGER, 8),
    Column("Opened at (UTC)", ColumnType.DATETIME, 20),
    Column("Window closes (UTC)", ColumnType.DATETIME, 20),
    Column("Decided at (UTC)", ColumnType.DATETIME, 20),
)


def _batches_queryset(report: Report) -> QuerySet:
    start, end = period_bounds(report.date_from, report.date_to)
    batches = ProductionBatch.objects.filter(created_at__gte=start, created_at__lt=end)
    if report.scope != OPS:
        return batches.none()
    if report.product_type:
        batches = batches.filter(product_type=report.product_type)
    if report.supplier_id:
        batches = batches.filter(supplier_id=report.supplier_id)
    order_count = (
        BatchContribution.objects.filter(batch_id=OuterRef("pk")).order_by().values("batch_id").annotate(n=Count("id"))
    )
    return batches.order_by("created_at", "id").values_list(
        "id",
        "product_type",
        "supplier__name",
        "batch_status",
        "target_quantity",
        "current_quantity",
        Coalesce(Subquery(order_count.values("n")), 0),
        "created_at",
        "window_closes_at",
        Coalesce("confirmed_at", "cancelled_at"),
    )


def _batch_row(values: tuple) -> tuple:
    batch_id, product_type, supplier, status, target, current, orders, opened, closes, decided = values
    return (
        str(batch_id),
        product_type,
        supplier,
        status,
        target,
        current,
        fill_percent(current_quantity=current, target_quantity=target),
        orders,
        opened,
        closes,
        decided,
    )


FILL_BUCKETS = 10  # 0–9 %, 10–19 %, … 90–100 %


class BatchSummary(Summary):
    def __init__(self, report: Report):
        self.batches = 0
        self.pooled_units = 0
        self.orders = 0
        self.by_status: Counter[str] = Counter()
        self.decided_fill_total = Decimal(0)
        self.decided = 0
        self.fill_histogram = [0] * FILL_BUCKETS

    def add(self, row: tuple) -> None:
        self.batches += 1
        self.pooled_units += row[5]
        self.orders += row[7]
        self.by_status[row[3]] += 1
        if row[10] is not None:
            self.decided += 1
            self.decided_fill_total += row[6]
            self.fill_histogram[min(int(row[6]) // 10, FILL_BUCKETS - 1)] += 1

    def lines(self):
        average = (self.decided_fill_total / self.decided).quantize(Decimal("0.01")) if self.decided else None
        lines = [
            ("Batches", self.batches, ColumnType.INTEGER),
            ("Orders pooled", self.orders, ColumnType.INTEGER),
            ("Units pooled", self.pooled_units, ColumnType.INTEGER),
            ("Average fill at decision %", average, ColumnType.PERCENT),
        ]
        for status in ProductionBatch.Status:
            lines.append((f"Batches {status.label.lower()}", self.by_status.get(status.value, 0), ColumnType.INTEGER))
        return lines

    def chart(self) -> Chart:
        chart = Chart(title="Fill at decision (batches)", value_label="batches")
        for bucket, count in enumerate(self.fill_histogram):
            chart.labels.append(f"{bucket * 10}%")
            chart.values.append(count)
        return chart


# --- supplier orders ----------------------------------------------------------------------------

SUPPLIER_ORDER_COLUMNS = (
    Column("Order number", ColumnType.TEXT, 22),
    Column("Supplier", ColumnType.TEXT, 20),
    Column("Product type", ColumnType.TEXT, 14),
    Column("Quantity", ColumnType.INTEGER, 10),
    Column("Unit price", ColumnType.MONEY, 12),
    Column("Amount", ColumnType.MONEY, 14),
    Column("Status", ColumnType.TEXT, 14),
    Column("Source", ColumnType.TEXT, 44, pdf_chars=15),
    Column("Promised date", ColumnType.DATE, 14),
    Column("Delivered at (UTC)", ColumnType.DATETIME, 20),
    Column("Defective units", ColumnType.INTEGER, 10),
    Column("Placed at (UTC)", ColumnType.DATETIME, 20),
)


def _supplier_orders_queryset(report: Report) -> QuerySet:
    start, end = period_bounds(report.date_from, report.date_to)
    supplier_orders = SupplierOrder.objects.filter(created_at__gte=start, created_at__lt=end)
    if report.scope == SUPPLIER:
        if not report.supplier_id:
            return supplier_orders.none()
    elif report.scope != OPS:
        return supplier_orders.none()
    if report.product_type:
        supplier_orders = supplier_orders.filter(product_type=report.product_type)
    if report.supplier_id:
        supplier_orders = supplier_orders.filter(supplier_id=report.supplier_id)
    return supplier_orders.order_by("created_at", "id").values_list(
        "order_number",
        "supplier__name",
        "product_type",
        "quantity",
        "supplier_price",
        "status",
        "batch_id",
        "buyer_order_id",
        "promised_date",
        "delivered_at",
        "defective_units",
        "created_at",
    )


def _supplier_order_row(values: tuple) -> tuple:
    number, supplier, product_type, quantity, price, status, batch, direct, promised, delivered, defects, at = values
    source = f"batch {batch}" if batch else f"direct order {direct}"
    return (number, supplier, product_type, quantity, price, price * quantity, status, source, promised, delivered,
            defects, at)  # fmt: skip


class SupplierOrderSummary(Summary):
    def __init__(self, report: Report):
        self.orders = 0
        self.units = 0
        self.amount = Decimal("0.00")
        self.delivered = 0
        self.defective = 0
        self.by_status: Counter[str] = Counter()
        self.by_day = _UnitsByDay(report)

    def add(self, row: tuple) -> None:
        self.orders += 1
        self.units += row[3]
        self.amount += row[5]
        self.by_status[row[6]] += 1
        self.defective += row[10]
        self.by_day.add(row[11], row[3])

    def lines(self):
        lines = [
            ("Supplier orders", self.orders, ColumnType.INTEGER),
            ("Units", self.units, ColumnType.INTEGER),
            ("Amount", self.amount, ColumnType.MONEY),
            ("Defective units", self.defective, ColumnType.INTEGER),
        ]
        for status in SupplierOrder.Status:
            lines.append((f"Orders {status.label.lower()}", self.by_status.get(status.value, 0), ColumnType.INTEGER))
        return lines

    def chart(self) -> Chart:
        return self.by_day.chart("Units ordered from suppliers")


# --- daily ----------------------------------------------------------------------------------------

DAILY_COLUMNS = (
    Column("Day", ColumnType.DATE, 12),
    Column("Product type", ColumnType.TEXT, 14),
    Column("Orders submitted", ColumnType.INTEGER, 11),
    Column("Units submitted", ColumnType.INTEGER, 11),
    Column("Orders pooled", ColumnType.INTEGER, 10),
    Column("Orders rejected", ColumnType.INTEGER, 10),
    Column("Direct orders", ColumnType.INTEGER, 10),
    Column("Revenue", ColumnType.MONEY, 14),
    Column("Refunds", ColumnType.INTEGER, 9),
    Column("Refunded amount", ColumnType.MONEY, 13),
    Column("Batches opened", ColumnType.INTEGER, 10),
    Column("Batches confirmed", ColumnType.INTEGER, 11),
    Column("Sent to review", ColumnType.INTEGER, 10),
    Column("Batches cancelled", ColumnType.INTEGER, 11),
    Column("Avg fill at close %", ColumnType.PERCENT, 11),
    Column("Avg hours to confirm", ColumnType.DECIMAL, 11),
)
DAILY_FIELDS = (
    "day",
    "product_type",
    "orders_submitted",
    "units_submitted",
    "orders_pooled",
    "orders_rejected",
    "orders_direct",
    "revenue",
    "refunds",
    "refunded_amount",
    "batches_opened",
    "batches_confirmed",
    "batches_sent_to_review",
    "batches_cancelled",
    "avg_fill_percent_at_close",
    "avg_hours_to_confirm",
)


def _daily_queryset(report: Report) -> QuerySet:
    if report.scope != OPS:
        return DailyStats.objects.none()
    rows = daily_stats_between(
        first_day=report.date_from, last_day=report.date_to, product_type=report.product_type or None
    )
    return rows.values_list(*DAILY_FIELDS)


class DailySummary(Summary):
    # Summed over the rows: every integer and money column.
    SUMMED = {
        index for index, column in enumerate(DAILY_COLUMNS) if column.type in (ColumnType.INTEGER, ColumnType.MONEY)
    }

    def __init__(self, report: Report):
        self.report = report
        self.days: set[date] = set()
        self.totals = [0] * len(DAILY_COLUMNS)
        self.units_by_day: dict[date, int] = defaultdict(int)
        self.bucket_of = _bucket_of(report)

    def add(self, row: tuple) -> None:
        self.days.add(row[0])
        for index in self.SUMMED:
            self.totals[index] += row[index] or 0
        self.units_by_day[self.bucket_of(row[0])] += row[3]

    def lines(self):
        lines = [("Days with activity", len(self.days), ColumnType.INTEGER)]
        for index in sorted(self.SUMMED):
            column = DAILY_COLUMNS[index]
            lines.append((column.header, self.totals[index], column.type))
        return lines

    def chart(self) -> Chart:
        weekly = (self.report.date_to - self.report.date_from).days >= 62
        chart = Chart(title=f"Units submitted by {'week' if weekly else 'day'}", value_label="units")
        for bucket in _bucket_labels(self.report):
            chart.labels.append(bucket.strftime("%d %b"))
            chart.values.append(self.units_by_day.get(bucket, 0))
        return chart


KINDS: dict[str, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            kind=ReportKind.ORDERS,
            title="Orders",
            columns=ORDER_COLUMNS,
            roles=frozenset({OPS, BUYER}),
            queryset=_orders_queryset,
            to_row=_order_row,
            summary=OrderSummary,
        ),
        KindSpec(
            kind=ReportKind.BATCHES,
            title="Production batches",
            columns=BATCH_COLUMNS,
            roles=frozenset({OPS}),
            queryset=_batches_queryset,
            to_row=_batch_row,
            summary=BatchSummary,
        ),
        KindSpec(
            kind=ReportKind.SUPPLIER_ORDERS,
            title="Supplier orders",
            columns=SUPPLIER_ORDER_COLUMNS,
            # A supplier user gets its own supplier's rows (the scope fixes the supplier filter).
            roles=frozenset({OPS, SUPPLIER}),
            queryset=_supplier_orders_queryset,
            to_row=_supplier_order_row,
            summary=SupplierOrderSummary,
        ),
        KindSpec(
            kind=ReportKind.DAILY,
            title="Daily summary",
            columns=DAILY_COLUMNS,
            roles=frozenset({OPS}),
            queryset=_daily_queryset,
            to_row=tuple,
            summary=DailySummary,
            # The rollup rows hold no supplier.
            supplier_filter=False,
        ),
    )
}


def kind_spec(kind: str) -> KindSpec:
    return KINDS[kind]
