"""Scoring runs: sum every supplier's deliveries in SQL, apply the formulas, keep a dated snapshot.

One run scores all suppliers (nightly) or one (after each of its deliveries) with the same three
statements however many suppliers there are: one GROUP BY over the window's deliveries, one
window-function median of acknowledgement times, then an upsert of one snapshot per supplier and
day and an UPDATE of the suppliers' current score. The formulas are suppliers.scoring; the
alerts each run raises or closes are suppliers.alerts. Runs take one lock (see ``_scoring_lock``).
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from sleekbatch import sql
from suppliers import alerts
from suppliers.models import Supplier, SupplierOrder, SupplierScoreSnapshot
from suppliers.scoring import SCORECARD_FIELDS, DeliveryTotals, Scorecard, ScoreRules, scorecard_from_totals

logger = logging.getLogger(__name__)

# Any constant both runs agree on: serialises scoring runs on PostgreSQL (SQLite serialises writers).
SCORING_LOCK_NAMESPACE = 0x5C0_2EC0


@dataclass(frozen=True)
class ScoringRun:
    suppliers: int
    scored: int  # suppliers with a score (not "new")
    supplier_orders: int  # deliveries in the window
    alerts_opened: int
    alerts_closed: int
    opened_alert_ids: tuple[int, ...]
    seconds: float

    def counts(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if name != "opened_alert_ids"}


def _delivery_totals_sql(*, one_supplier: bool) -> str:
    """The sums of each supplier's deliveries in the window (hash-aggregated: no sort)."""
    so = SupplierOrder
    supplier, days_late, quantity = sql.column(so, "supplier"), sql.column(so, "days_late"), sql.column(so, "quantity")
    delivered, lead = sql.column(so, "delivered_units"), sql.column(so, "lead_time_days")
    delivered_in = (
        f"{sql.column(so, 'status')} = %(delivered)s"
        f" AND {sql.column(so, 'delivered_at')} >= %(since)s AND {sql.column(so, 'delivered_at')} <= %(until)s"
    )
    sums = [
        "COUNT(*)",
        f"SUM(CASE WHEN {days_late} <= %(grace)s THEN 1 ELSE 0 END)",
        f"SUM({quantity})",
        f"SUM(CASE WHEN {delivered} < {quantity} THEN {delivered} ELSE {quantity} END)",
        f"SUM({delivered})",
        f"SUM({sql.column(so, 'defective_units')})",
        f"SUM({lead})",
        f"SUM({lead} * {lead})",
    ]
    return (
        f"SELECT {supplier}, {', '.join(sums)} FROM {sql.table(so)} WHERE {delivered_in}"
        + (f" AND {supplier} = %(supplier)s" if one_supplier else "")
        + f" GROUP BY {supplier}"
    )


def _acknowledge_median_sql(*, one_supplier: bool, vendor: str) -> str:
    """The median of each supplier's acknowledgement hours in the window. It sorts only these two
    narrow columns (sorting the sums' wide rows by supplier cost three times as much); on SQLite,
    which has no percentile_cont, it takes the middle row or the mean of the two middle rows."""
    so = SupplierOrder
    supplier, hours = sql.column(so, "supplier"), sql.column(so, "acknowledge_hours")
    acknowledged_in = (
        f"{hours} IS NOT NULL AND {sql.column(so, 'acknowledged_at')} >= %(since)s"
        f" AND {sql.column(so, 'acknowledged_at')} <= %(until)s"
        + (f" AND {supplier} = %(supplier)s" if one_supplier else "")
    )
    if vendor == "postgresql":
        return (
            f"SELECT {supplier}, percentile_cont(0.5) WITHIN GROUP (ORDER BY {hours})"
            f" FROM {sql.table(so)} WHERE {acknowledged_in} GROUP BY {supplier}"
        )
    return (
        f"SELECT supplier_id, AVG(hours) FROM ("
        f" SELECT {supplier} AS supplier_id, {hours} AS hours,"
        f" ROW_NUMBER() OVER (PARTITION BY {supplier} ORDER BY {hours}) AS position,"
        f" COUNT(*) OVER (PARTITION BY {supplier}) AS total"
        f" FROM {sql.table(so)} WHERE {acknowledged_in}"
        ") ranked WHERE position IN ((total + 1) / 2, (total + 2) / 2) GROUP BY supplier_id"
    )


def delivery_totals(*, since: datetime, until: datetime, supplier_id: int | None = None) -> dict[int, DeliveryTotals]:
    """Per supplier, the sums the formulas need over the window [since, until] (suppliers without
    a delivery or an acknowledgement in it: absent)."""
    one = supplier_id is not None
    # Prepared as the ORM would (SQLite compares datetimes as text in its own format).
    field = SupplierOrder._meta.get_field("delivered_at")
    params = {
        "grace": settings.SUPPLIER_ON_TIME_GRACE_DAYS,
        "delivered": SupplierOrder.Status.DELIVERED.value,
        "since": field.get_db_prep_value(since, connection),
        "until": field.get_db_prep_value(until, connection),
        "supplier": supplier_id,
    }
    if connection.vendor == "postgresql" and not one:
        # Enough memory to sort a window's acknowledgements (16 bytes each) without spilling to disk.
        sql.work_mem_for_transaction(settings.SUPPLIER_SCORING_WORK_MEM_MB)
    rows = sql.fetch_all(sql.Sql(_delivery_totals_sql(one_supplier=one), params), SupplierOrder, ["supplier"])
    median_rows = sql.fetch_all(
        sql.Sql(_acknowledge_median_sql(one_supplier=one, vendor=connection.vendor), params),
        SupplierOrder,
        ["supplier"],
    )
    medians = {row[0]: float(row[1]) for row in median_rows if row[1] is not None}
    totals = {
        row[0]: DeliveryTotals(
            delivered_orders=int(row[1] or 0),
            on_time_orders=int(row[2] or 0),
            ordered_units=int(row[3] or 0),
            delivered_units_capped=int(row[4] or 0),
            delivered_units=int(row[5] or 0),
            defective_units=int(row[6] or 0),
            lead_time_days_sum=float(row[7] or 0),
            lead_time_days_sum_of_squares=float(row[8] or 0),
            acknowledge_hours_p50=medians.get(row[0]),
        )
        for row in rows
    }
    # A supplier that acknowledged orders but delivered none in the window still has a median.
    for supplier, median in medians.items():
        totals.setdefault(supplier, DeliveryTotals(acknowledge_hours_p50=median))
    return totals


def _scoring_lock() -> None:
    """One scoring run at a time: a delivery's rescoring waits for the nightly run (seconds) rather
    than both deciding, from the same previous standing, to open the same alert."""
    if connection.vendor == "postgresql":
        sql.advisory_xact_lock(SCORING_LOCK_NAMESPACE, 0, wait=True)


def _snapshots_upsert(cards: dict[int, Scorecard], *, day, window_days: int, now) -> None:
    """Today's snapshot of each supplier, replacing one an earlier run wrote today."""
    columns: dict[str, list] = {"supplier_id": list(cards)}
    for name in SCORECARD_FIELDS:
        values = [getattr(card, name) for card in cards.values()]
        columns[name] = [str(value) for value in values] if name == "standing" else values
    sql.insert_columns(
        SupplierScoreSnapshot,
        columns=columns,
        constants={"day": day, "window_days": window_days, "computed_at": now},
        conflict=("supplier_id", "day"),
    )


def suppliers_score(*, supplier_ids: Iterable[int] | None = None, now: datetime | None = None) -> ScoringRun:
    """Score the given suppliers (default: every supplier) as of ``now``; rerunning a day replaces its snapshot."""
    started = time.monotonic()
    now = now or timezone.now()
    window_days = settings.SUPPLIER_SCORE_WINDOW_DAYS
    since, day = now - timedelta(days=window_days), timezone.localdate(now)
    rules = ScoreRules.from_settings()
    suppliers = Supplier.objects.all()
    only = None
    if supplier_ids is not None:
        only = list(supplier_ids)
        suppliers = suppliers.filter(id__in=only)
    with transaction.atomic():
        _scoring_lock()
        previous = dict(suppliers.values_list("id", "standing"))
        if not previous:
            totals = {}
        elif len(previous) == 1:
            totals = delivery_totals(since=since, until=now, supplier_id=next(iter(previous)))
        else:
            totals = delivery_totals(since=since, until=now)
        empty = DeliveryTotals()
        cards = {supplier_id: scorecard_from_totals(totals.get(supplier_id, empty), rules) for supplier_id in previous}
        _snapshots_upsert(cards, day=day, window_days=window_days, now=now)
        # The current score and standing, copied from today's snapshots in one statement.
        todays = SupplierScoreSnapshot.objects.filter(supplier_id=OuterRef("pk"), day=day)
        current = Supplier.objects.filter(score_snapshots__day=day)
        if only is not None:
            current = current.filter(id__in=only)
        current.update(
            performance_score=Subquery(todays.values("score")[:1]),
            standing=Subquery(todays.values("standing")[:1]),
            scored_at=now,
        )
        opened, closed = alerts.alerts_evaluate(previous_standings=previous, cards=cards, now=now)
    run = ScoringRun(
        suppliers=len(cards),
        scored=sum(1 for card in cards.values() if card.score is not None),
        supplier_orders=sum(card.orders_counted for card in cards.values()),
        alerts_opened=len(opened),
        opened_alert_ids=tuple(opened),
        alerts_closed=closed,
        seconds=round(time.monotonic() - started, 3),
    )
    logger.info("suppliers.scored", extra=run.counts())
    return run
