"""What each report kind contains: its columns, the rows of one report, and its summary.

A kind is declared once, as its columns: each says its header, its type and where its value comes
from — ``source``, a field path or expression that the kind's query fetches (``values_list``, in
column order), optionally passed through ``convert``; or ``derive``, computed from the row's earlier
cells. The rows are read as tuples from a server-side cursor in chunks of ``REPORT_CHUNK_ROWS``,
and each becomes a tuple of typed values (``str``, ``int``, ``Decimal``, ``date``, ``datetime``),
which every writer then formats its own way. The queries run on the read replica when there is one
(the caller wraps generation in ``sleekbatch.db.heavy_reads``).
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import Combinable, RawSQL
from django.db.models.functions import Coalesce

from analytics.models import DailyStats
from analytics.reports.models import Report, ReportKind
from analytics.selectors import daily_stats_between
from batches.fill import fill_percent
from batches.models import BatchContribution, ProductionBatch
from orders.models import Order
from sleekbatch.roles import BUYER, OPS, SUPPLIER
from suppliers.models import Supplier, SupplierOffer, SupplierOrder
from suppliers.scoring import Standing
from suppliers.selectors import suppliers_scorecards


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
    # Where the value comes from: a field path or an expression the kind's query fetches (several:
    # ``convert`` makes the one value of them), or ``derive`` (a function of the row's earlier
    # cells, by index) for a value computed from other columns.
    source: str | Combinable | tuple[str | Combinable, ...] | None = None
    derive: Callable[[list], Any] | None = None
    # Applied to the fetched value(s) (ids to text, floats to two decimals, …).
    convert: Callable[..., Any] | None = None
    # The PDF shows at most this many characters (ids: the first 8 are enough to tell rows apart).
    pdf_chars: int | None = None
    # Text no user wrote (ids, statuses): the CSV writer skips the formula check on it.
    generated: bool = False


def _text(value) -> str | None:
    return None if value is None else str(value)


def _text_or_empty(value) -> str:
    return "" if value is None else str(value)


CENT = Decimal("0.01")


def _two_decimals(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _rate_percent(value) -> Decimal | None:
    """A 0..1 rate as the percent columns hold it: 0.93333 → 93.33."""
    return None if value is None else (Decimal(str(value)) * 100).quantize(CENT, rounding=ROUND_HALF_UP)


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
    kind: ReportKind
    columns: tuple[Column, ...]
    # The report's records, scoped, filtered and in report order (the columns say what is read of them).
    queryset: Callable[[Report], QuerySet]
    summary: Callable[[Report], Summary]
    # Roles that may request this kind ("ops" always may).
    roles: frozenset[str]
    supplier_filter: bool = True
    # The fetched values of a kind whose columns do not all come from one query (suppliers: the
    # scorecards), in place of ``query``: tuples of the ``source`` columns' values, in order.
    fetch: Callable[[Report], Iterator[tuple]] | None = None

    @property
    def title(self) -> str:
        return self.kind.label

    def query(self, report: Report) -> QuerySet:
        """The rows as ``values_list`` tuples: the values of each column that has a ``source``."""
        return self.queryset(report).values_list(*self.fetched_sources())

    def fetched_sources(self) -> list:
        sources = []
        for column in self.columns:
            if column.derive is None:
                sources.extend(column.source if isinstance(column.source, tuple) else (column.source,))
        return sources

    def rows(self, report: Report) -> Iterator[tuple]:
        to_row = self.row_builder()
        if self.fetch is not None:
            fetched = self.fetch(report)
            yield from (map(to_row, fetched) if to_row else fetched)
            return
        query = self.query(report)
        with without_jit(query.db), _read_transaction(query.db):
            fetched = query.iterator(chunk_size=settings.REPORT_CHUNK_ROWS)
            yield from (map(to_row, fetched) if to_row else fetched)

    def row_builder(self) -> Callable[[tuple], tuple] | None:
        """Fetched values → the row: each ``convert`` applied, each derived value put in its place.
        None when the fetched tuple is the row already."""
        converts, position = [], 0
        for column in self.columns:
            if column.derive is not None:
                continue
            width = len(column.source) if isinstance(column.source, tuple) else 1
            if column.convert is not None:
                converts.append((position, width, column.convert))
            position += width
        converts.reverse()  # the last first: a several-value source shrinks to one without moving the others
        derived = [(index, column.derive) for index, column in enumerate(self.columns) if column.derive]
        if not converts and not derived:
            return None

        def to_row(values: tuple) -> tuple:
            row = list(values)
            for index, width, convert in converts:
                if width == 1:
                    row[index] = convert(row[index])
                else:
                    row[index : index + width] = [convert(*row[index : index + width])]
            for index, derive in derived:  # in column order: a derived value sees every cell before it
                row.insert(index, derive(row))
            return tuple(row)

        return to_row

    def count(self, report: Report) -> int:
        return self.queryset(report).count()


def _read_transaction(alias: str):
    """On the replica, the read runs in a transaction: Django's server-side cursor is then a plain
    one, not WITH HOLD (which makes PostgreSQL compute the whole result before the first row comes),
    so fetching and writing overlap. Not on the primary: the progress updates go there, and other
    sessions would not see them before the transaction ends."""
    if alias == DEFAULT_DB_ALIAS or connections[alias].vendor != "postgresql":
        return nullcontext()
    return transaction.atomic(using=alias)


@contextmanager
def without_jit(alias: str) -> Iterator[None]:
    """PostgreSQL's JIT off for a report's query: its cost estimate (a million index probes)
    buys a compile with inlining and optimization, 4–5 s of a 200,000-row report's 12 on the
    bench machine, for a query that is read once."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        if connection.connection is not None and not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("RESET jit")


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


ORDER_COLUMNS = (
    Column("Order ID", ColumnType.TEXT, 38, source="id", convert=str, pdf_chars=8, generated=True),
    Column("Buyer", ColumnType.TEXT, 18, source="buyer__username"),
    Column("Product type", ColumnType.TEXT, 14, source="product_type"),
    Column("Quantity", ColumnType.INTEGER, 10, source="quantity"),
    Column("Styles", ColumnType.TEXT, 24, source=_style_names(), convert=_text_or_empty),
    Column("Unit price", ColumnType.MONEY, 12, source="unit_price"),
    Column("Total price", ColumnType.MONEY, 14, source="total_price"),
    Column("Status", ColumnType.TEXT, 11, source="workflow_status", generated=True),
    Column("Batch", ColumnType.TEXT, 38, source="contribution__batch_id", convert=_text, pdf_chars=8, generated=True),
    Column(
        "Supplier",
        ColumnType.TEXT,
        20,
        source=Coalesce("contribution__batch__supplier__name", "direct_supplier_order__supplier__name"),
    ),
    Column("Submitted at (UTC)", ColumnType.DATETIME, 20, source="created_at"),
    Column("Pooled at (UTC)", ColumnType.DATETIME, 20, source="pooled_at"),
    # A pooled order is decided with its batch; a direct order when its supplier order is placed.
    Column(
        "Decided at (UTC)",
        ColumnType.DATETIME,
        20,
        source=Coalesce(
            "contribution__batch__confirmed_at",
            "contribution__batch__cancelled_at",
            "direct_supplier_order__created_at",
        ),
    ),
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
    # created_at, id: the order of the order_created_idx index, so the rows come without a sort.
    return orders.order_by("created_at", "id")


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


def _batch_order_count() -> Coalesce:
    orders = BatchContribution.objects.filter(batch_id=OuterRef("pk")).order_by().values("batch_id")
    return Coalesce(Subquery(orders.annotate(n=Count("id")).values("n")), 0)


BATCH_COLUMNS = (
    Column("Batch ID", ColumnType.TEXT, 38, source="id", convert=str, pdf_chars=8, generated=True),
    Column("Product type", ColumnType.TEXT, 14, source="product_type"),
    Column("Supplier", ColumnType.TEXT, 20, source="supplier__name"),
    Column("Status", ColumnType.TEXT, 13, source="batch_status"),
    Column("Target", ColumnType.INTEGER, 9, source="target_quantity"),
    Column("Pooled", ColumnType.INTEGER, 9, source="current_quantity"),
    Column(
        "Fill %",
        ColumnType.PERCENT,
        9,
        derive=lambda row: fill_percent(current_quantity=row[5], target_quantity=row[4]),
    ),
    Column("Orders", ColumnType.INTEGER, 8, source=_batch_order_count()),
    Column("Opened at (UTC)", ColumnType.DATETIME, 20, source="created_at"),
    Column("Window closes (UTC)", ColumnType.DATETIME, 20, source="window_closes_at"),
    Column("Decided at (UTC)", ColumnType.DATETIME, 20, source=Coalesce("confirmed_at", "cancelled_at")),
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
    return batches.order_by("created_at", "id")


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


def _source(batch_id, buyer_order_id) -> str:
    return f"batch {batch_id}" if batch_id else f"direct order {buyer_order_id}"


SUPPLIER_ORDER_COLUMNS = (
    Column("Order number", ColumnType.TEXT, 22, source="order_number"),
    Column("Supplier", ColumnType.TEXT, 20, source="supplier__name"),
    Column("Product type", ColumnType.TEXT, 14, source="product_type"),
    Column("Quantity", ColumnType.INTEGER, 10, source="quantity"),
    Column("Unit price", ColumnType.MONEY, 12, source="supplier_price"),
    Column("Amount", ColumnType.MONEY, 14, derive=lambda row: row[4] * row[3]),
    Column("Status", ColumnType.TEXT, 14, source="status"),
    Column("Source", ColumnType.TEXT, 44, source=("batch_id", "buyer_order_id"), convert=_source, pdf_chars=15),
    Column("Promised date", ColumnType.DATE, 14, source="promised_date"),
    Column("Delivered at (UTC)", ColumnType.DATETIME, 20, source="delivered_at"),
    Column("Defective units", ColumnType.INTEGER, 10, source="defective_units"),
    Column("Placed at (UTC)", ColumnType.DATETIME, 20, source="created_at"),
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
    return supplier_orders.order_by("created_at", "id")


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
    Column("Day", ColumnType.DATE, 12, source="day"),
    Column("Product type", ColumnType.TEXT, 14, source="product_type"),
    Column("Orders submitted", ColumnType.INTEGER, 11, source="orders_submitted"),
    Column("Units submitted", ColumnType.INTEGER, 11, source="units_submitted"),
    Column("Orders pooled", ColumnType.INTEGER, 10, source="orders_pooled"),
    Column("Orders rejected", ColumnType.INTEGER, 10, source="orders_rejected"),
    Column("Direct orders", ColumnType.INTEGER, 10, source="orders_direct"),
    Column("Revenue", ColumnType.MONEY, 14, source="revenue"),
    Column("Refunds", ColumnType.INTEGER, 9, source="refunds"),
    Column("Refunded amount", ColumnType.MONEY, 13, source="refunded_amount"),
    Column("Batches opened", ColumnType.INTEGER, 10, source="batches_opened"),
    Column("Batches confirmed", ColumnType.INTEGER, 11, source="batches_confirmed"),
    Column("Sent to review", ColumnType.INTEGER, 10, source="batches_sent_to_review"),
    Column("Batches cancelled", ColumnType.INTEGER, 11, source="batches_cancelled"),
    Column("Avg fill at close %", ColumnType.PERCENT, 11, source="avg_fill_percent_at_close"),
    Column("Avg hours to confirm", ColumnType.DECIMAL, 11, source="avg_hours_to_confirm"),
)


def _daily_queryset(report: Report) -> QuerySet:
    if report.scope != OPS:
        return DailyStats.objects.none()
    return daily_stats_between(
        first_day=report.date_from, last_day=report.date_to, product_type=report.product_type or None
    )


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


# --- suppliers ----------------------------------------------------------------------------------

# The scorecard's fields, in column order after the supplier's code and name: the values come from
# suppliers.selectors.suppliers_scorecards, the numbers the API, the admin and the dashboard show.
SUPPLIER_COLUMNS = (
    Column("Supplier code", ColumnType.TEXT, 14, source="code"),
    Column("Supplier", ColumnType.TEXT, 24, source="name"),
    Column("Standing", ColumnType.TEXT, 10, source="standing", convert=_text, generated=True),
    Column("Score", ColumnType.DECIMAL, 8, source="score"),
    Column("On time %", ColumnType.PERCENT, 9, source="on_time_rate", convert=_rate_percent),
    Column("Defect ppm", ColumnType.INTEGER, 10, source="defect_ppm"),
    Column("Fill rate %", ColumnType.PERCENT, 9, source="fill_rate", convert=_rate_percent),
    Column("Ack hours (p50)", ColumnType.DECIMAL, 12, source="acknowledge_hours_p50",
           convert=_two_decimals),
    Column("Lead days (mean)", ColumnType.DECIMAL, 11, source="lead_time_days_mean", convert=_two_decimals),
    Column("Lead days (stdev)", ColumnType.DECIMAL, 11, source="lead_time_days_stdev", convert=_two_decimals),
    Column("Deliveries counted", ColumnType.INTEGER, 11, source="orders_counted"),
    Column("Scored on", ColumnType.DATE, 12, source="day"),
    Column("Window (days)", ColumnType.INTEGER, 9, source="window_days"),
)  # fmt: skip
_SUPPLIER_FIELDS = ("id", "code", "name")
_SCORECARD_FIELDS = tuple(column.source for column in SUPPLIER_COLUMNS[2:])


def _suppliers_queryset(report: Report) -> QuerySet:
    """Every supplier for ops, a supplier user's own; with a product type, those that offer it."""
    suppliers = Supplier.objects.all()
    if report.scope == SUPPLIER:
        if not report.supplier_id:
            return suppliers.none()
    elif report.scope != OPS:
        return suppliers.none()
    if report.supplier_id:
        suppliers = suppliers.filter(pk=report.supplier_id)
    if report.product_type:
        suppliers = suppliers.filter(
            Exists(SupplierOffer.objects.filter(supplier_id=OuterRef("pk"), product_type=report.product_type))
        )
    return suppliers.order_by("name", "code")


def _suppliers_fetch(report: Report) -> Iterator[tuple]:
    """Each supplier's code, name and scorecard as it stood on the report's last day (today's when
    the range reaches today): the latest scoring run on or before it, as the API shows it."""
    suppliers = _suppliers_queryset(report).values_list(*_SUPPLIER_FIELDS)
    chunk: list[tuple] = []
    for supplier in suppliers.iterator(chunk_size=settings.REPORT_CHUNK_ROWS):
        chunk.append(supplier)
        if len(chunk) == settings.REPORT_CHUNK_ROWS:
            yield from _scorecard_rows(chunk, as_of=report.date_to)
            chunk = []
    yield from _scorecard_rows(chunk, as_of=report.date_to)


def _scorecard_rows(suppliers: list[tuple], *, as_of: date) -> Iterator[tuple]:
    if not suppliers:
        return
    cards = suppliers_scorecards(supplier_ids=[supplier_id for supplier_id, _, _ in suppliers], as_of=as_of)
    for supplier_id, code, name in suppliers:
        current = cards[supplier_id]
        values = {**vars(current.scorecard), "day": current.day, "window_days": current.window_days}
        yield (code, name, *(values[field] for field in _SCORECARD_FIELDS))


class SupplierSummary(Summary):
    def __init__(self, report: Report):
        self.suppliers = 0
        self.scores: list[Decimal] = []
        self.deliveries = 0
        self.by_standing: Counter[str] = Counter()

    def add(self, row: tuple) -> None:
        self.suppliers += 1
        self.by_standing[row[2]] += 1
        if row[3] is not None:
            self.scores.append(row[3])
        self.deliveries += row[10]

    def lines(self):
        average = (sum(self.scores) / len(self.scores)).quantize(CENT) if self.scores else None
        lines = [
            ("Suppliers", self.suppliers, ColumnType.INTEGER),
            ("Suppliers with a score", len(self.scores), ColumnType.INTEGER),
            ("Average score", average, ColumnType.DECIMAL),
            ("Deliveries counted", self.deliveries, ColumnType.INTEGER),
        ]
        for standing in Standing:
            lines.append((f"Standing {standing.value}", self.by_standing.get(standing.value, 0), ColumnType.INTEGER))
        return lines

    def chart(self) -> Chart:
        chart = Chart(title="Suppliers by standing", value_label="suppliers")
        for standing in Standing:
            chart.labels.append(standing.value)
            chart.values.append(self.by_standing.get(standing.value, 0))
        return chart


# One line a kind: its columns (what is read and how it is shown), its records, its summary, who may
# request it. Its title is the kind's label (ReportKind).
KINDS: dict[str, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(ReportKind.ORDERS, ORDER_COLUMNS, _orders_queryset, OrderSummary, roles=frozenset({OPS, BUYER})),
        KindSpec(ReportKind.BATCHES, BATCH_COLUMNS, _batches_queryset, BatchSummary, roles=frozenset({OPS})),
        # A supplier user gets its own supplier's rows (the scope fixes the supplier filter).
        KindSpec(ReportKind.SUPPLIER_ORDERS, SUPPLIER_ORDER_COLUMNS, _supplier_orders_queryset,
                 SupplierOrderSummary, roles=frozenset({OPS, SUPPLIER})),
        KindSpec(ReportKind.SUPPLIERS, SUPPLIER_COLUMNS, _suppliers_queryset, SupplierSummary,
                 roles=frozenset({OPS, SUPPLIER}), fetch=_suppliers_fetch),
        # The rollup rows hold no supplier.
        KindSpec(ReportKind.DAILY, DAILY_COLUMNS, _daily_queryset, DailySummary, roles=frozenset({OPS}),
                 supplier_filter=False),
    )
}  # fmt: skip


def kind_spec(kind: str) -> KindSpec:
    return KINDS[kind]
