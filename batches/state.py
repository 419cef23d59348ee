"""The batch state machine: every transition of a ``ProductionBatch``, each a compare-and-set with
its events and side effects in the same transaction (docs/batches.md).

    open ──► confirmed | admin_review | cancelled
    admin_review ──► confirmed | cancelled | open (window extended)
    open ──► open (nearing_target event, once per batch)
"""

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from batches.models import BatchContribution, BatchEvent, ProductionBatch
from batches.notifications import batch_orders_source, notifications_insert
from orders.models import Notification, Order, Refund
from orders.notifications import notifications_recorded
from sleekbatch import sql
from sleekbatch.audit import Action, audit_diff, audit_record
from sleekbatch.business_events import BusinessKind, business_events_insert
from sleekbatch.correlation import get_correlation_id
from suppliers.models import SupplierOffer, SupplierOrder
from suppliers.services import SUPPLIER_ORDERS, supplier_orders_insert

logger = logging.getLogger(__name__)

Status = ProductionBatch.Status

# Longest window extension ops can grant in one decision (30 days).
MAX_EXTEND_HOURS = 720


class BatchTransitionError(Exception):
    """A decision that the batch's current state does not allow."""


class BatchNotInReview(BatchTransitionError):
    def __init__(self, batch_id, batch_status: str | None):
        self.batch_id = batch_id
        self.batch_status = batch_status
        if batch_status is None:
            message = f"Batch {batch_id} does not exist."
        else:
            label = Status(batch_status).label.lower()
            message = (
                f"Batch {str(batch_id)[:8]} is no longer in admin review (it is {label}); "
                "no decision was made. Reload to see its current state."
            )
        super().__init__(message)


@dataclass(frozen=True)
class _Moved:
    """A row a compare-and-set moved, as the UPDATE returned it."""

    id: UUID
    supplier_id: int
    product_type: str
    current_quantity: int
    target_quantity: int
    supplier_unit_price: Decimal
    offer_id: int
    fill_basis_points: int
    created_at: datetime
    window_closes_at: datetime


_RETURNING = tuple(field.name for field in fields(_Moved))
# The moved rows, as each statement of a transition names them; the notifications write, counted.
MOVED, NOTIFIED = "moved", "notified"


def _transition(
    *,
    batch_ids: Iterable,
    from_status: str,
    changes: dict,
    writes: Callable[[], dict[str, sql.Sql]],
    extra_filter: dict | None = None,
) -> list[_Moved]:
    """Move the batches among ``batch_ids`` still in ``from_status`` and run ``writes`` over them.

    ``writes()`` gives the statements that follow from the move (events, refunds, the orders'
    new status, notifications), each reading the moved rows as ``moved``; a ``notified`` write
    is counted, and the mailing task requested after commit when it recorded any. On
    PostgreSQL the whole transition is one statement (the UPDATE … RETURNING and every write
    as its queries), so every write reads the tables as they were before it: a write must not
    depend on another's effect. On SQLite the writes run one by one in the order given, over
    the moved rows selected again.

    On PostgreSQL a concurrent transaction that moved a row first makes the UPDATE wait,
    re-check the row after that commit, find the status changed and skip it; on SQLite the
    write lock is held from BEGIN (IMMEDIATE), so nothing interleaves at all.
    """
    ids = list(batch_ids)
    if not ids:
        return []
    queryset = ProductionBatch.objects.filter(id__in=ids, batch_status=from_status, **(extra_filter or {}))
    update = sql.update_sql(queryset, changes, _RETURNING)
    if connection.vendor == "postgresql":
        rows = sql.fetch_all(
            _one_statement(update, writes(), final=f"SELECT {MOVED}.*, {{notified}} FROM {MOVED}"),
            ProductionBatch,
            _RETURNING,
        )
        notifications_recorded(rows[0][-1] if rows else 0)
        return [_Moved(*row[:-1]) for row in rows]
    moved = [_Moved(*row) for row in sql.fetch_all(update, ProductionBatch, _RETURNING)]
    _write_over(moved, writes)
    return moved


def _write_over(moved: Sequence[_Moved], writes: Callable[[], dict[str, sql.Sql]]) -> None:
    """Run ``writes`` over rows already moved (``moved``: those rows selected again by id)."""
    if not moved:
        return
    ids = sql.in_list(ProductionBatch, "id", [row.id for row in moved])
    selected = sql.select_columns(
        ProductionBatch, _RETURNING, sql.Sql(f"{sql.column(ProductionBatch, 'id')} IN ({ids.sql})", ids.params)
    )
    if connection.vendor == "postgresql":
        (notified,) = sql.fetch_one(_one_statement(selected, writes(), final="SELECT {notified}"))
        notifications_recorded(notified)
        return
    for name, statement in writes().items():
        written = sql.execute(sql.with_queries([(MOVED, selected)], statement))
        if name == NOTIFIED:
            notifications_recorded(written)


def _one_statement(moved: sql.Sql, writes: dict[str, sql.Sql], *, final: str) -> sql.Sql:
    """PostgreSQL: ``WITH moved AS (…), <write> AS (…), … <final>``, ``{notified}`` in ``final``
    standing for the number of notifications recorded."""
    queries = [(MOVED, moved)]
    queries += [(name, sql.returning_one(write) if name == NOTIFIED else write) for name, write in writes.items()]
    notified = f"(SELECT count(*) FROM {NOTIFIED})" if NOTIFIED in writes else "0"
    return sql.with_queries(queries, sql.Sql(final.format(notified=notified)))


def _events(kind, *, from_status, to_status, actor, now, details=None) -> dict[str, sql.Sql]:
    """One batch event and one business event per moved batch, both selected from the moved rows."""
    details = details or {}
    m = _m
    # fill_basis_points is the floor of the fill in hundredths of a percent: exact at 2 places.
    fill = sql.Sql(f"{m('fill_basis_points').sql} / 100.0")
    writes = {
        "batch_events": sql.insert_select(
            BatchEvent,
            {
                "batch": m("id"),
                "kind": kind,
                "from_status": from_status,
                "to_status": to_status,
                "fill_percent": fill,
                "actor": actor.pk if actor is not None else None,
                "correlation_id": get_correlation_id(),
                "details": details,
                "created_at": now,
            },
            sql.Sql(f"FROM {MOVED} m"),
        )
    }
    business = _business_event(kind, from_status, now=now, fill=fill, details=details)
    if business is not None:
        writes["business_events"] = business
    return writes


def _m(name: str) -> sql.Sql:
    return sql.Sql(f"m.{sql.column(ProductionBatch, name)}")


_BUSINESS_KINDS = {
    BatchEvent.Kind.NEARING_TARGET: BusinessKind.BATCH_NEARING_TARGET,
    BatchEvent.Kind.ADMIN_REVIEW: BusinessKind.BATCH_SENT_TO_REVIEW,
    BatchEvent.Kind.CANCELLED: BusinessKind.BATCH_CANCELLED,
    BatchEvent.Kind.EXTENDED: BusinessKind.BATCH_EXTENDED,
}


def _business_event(kind, from_status, *, now, fill: sql.Sql, details: dict) -> sql.Sql | None:
    """The business event of a transition, over the moved rows (None when events are off)."""
    m = _m
    values = {
        "occurred_at": now,
        "product_type": m("product_type"),
        "batch_id": m("id"),
        "supplier_id": m("supplier"),
        "quantity": m("current_quantity"),
        "fill_percent": fill,
        "batch_opened_at": m("created_at"),
        "reason": details.get("reason", ""),
    }
    source = sql.Sql(f"FROM {MOVED} m")
    if kind == BatchEvent.Kind.CONFIRMED:
        # Revenue: the total price of the batch's pooled orders, read before they move to confirmed;
        # one grouped join over all the moved batches (a subquery per batch let the planner scan
        # every pooled order once per batch when its statistics predate the pooling).
        o, c = Order, BatchContribution
        source = sql.Sql(
            f"FROM {MOVED} m LEFT JOIN (SELECT c.{sql.column(c, 'batch')} AS batch_id,"
            f" SUM(o.{sql.column(o, 'total_price')}) AS revenue FROM {MOVED} mb"
            f" INNER JOIN {sql.table(c)} c ON c.{sql.column(c, 'batch')} = mb.{sql.column(ProductionBatch, 'id')}"
            f" INNER JOIN {sql.table(o)} o ON o.{sql.column(o, 'id')} = c.{sql.column(c, 'order')}"
            f" WHERE o.{sql.column(o, 'workflow_status')} = %s GROUP BY c.{sql.column(c, 'batch')}) r"
            f" ON r.batch_id = m.{sql.column(ProductionBatch, 'id')}",
            (Order.Status.POOLED.value,),
        )
        approved = from_status == Status.ADMIN_REVIEW
        values["kind"] = BusinessKind.BATCH_APPROVED if approved else BusinessKind.BATCH_CONFIRMED
        values["amount"] = sql.Sql("COALESCE(r.revenue, 0)")
    else:
        values["kind"] = _BUSINESS_KINDS[kind]
    if kind == BatchEvent.Kind.EXTENDED:
        values["duration_seconds"] = details["hours"] * 3600
    return business_events_insert(values, source)


def _refunds(*, reason: str, now) -> dict[str, sql.Sql]:
    """One refund, and its business event, per pooled order of the moved batches, for the order's total price."""
    order_id, contribution_order_id = sql.column(Order, "id"), sql.column(BatchContribution, "order")
    pooled_orders = sql.Sql(
        f"FROM {MOVED} m INNER JOIN {sql.table(BatchContribution)} c"
        f" ON c.{sql.column(BatchContribution, 'batch')} = m.{sql.column(ProductionBatch, 'id')}"
        f" INNER JOIN {sql.table(Order)} o ON o.{order_id} = c.{contribution_order_id}"
        f" WHERE o.{sql.column(Order, 'workflow_status')} = %s",
        (Order.Status.POOLED.value,),
    )
    amount = sql.Sql(f"COALESCE(o.{sql.column(Order, 'total_price')}, 0)")
    writes = {
        "refunds": sql.insert_select(
            Refund,
            {
                "order": sql.Sql(f"o.{order_id}"),
                "amount": amount,
                "reason": reason,
                "correlation_id": get_correlation_id(),
                "created_at": now,
            },
            pooled_orders,
        )
    }
    events = business_events_insert(
        {
            "kind": BusinessKind.REFUND_ISSUED,
            "occurred_at": now,
            "product_type": sql.Sql(f"o.{sql.column(Order, 'product_type')}"),
            "order_id": sql.Sql(f"o.{order_id}"),
            "batch_id": sql.Sql(f"c.{sql.column(BatchContribution, 'batch')}"),
            "amount": amount,
            "reason": reason,
        },
        pooled_orders,
    )
    if events is not None:
        writes["refund_events"] = events
    return writes


def _pooled_orders_become(status: str, *, now) -> dict[str, sql.Sql]:
    """The pooled orders of the moved batches move to ``status`` (the last write: on SQLite the
    writes before it still find them pooled)."""
    c, o = BatchContribution, Order
    return {
        "orders_moved": sql.update_where(
            Order,
            {"workflow_status": status, "updated_at": now},
            sql.Sql(
                f"{sql.column(o, 'workflow_status')} = %s AND {sql.column(o, 'id')} IN"
                f" (SELECT c.{sql.column(c, 'order')} FROM {sql.table(c)} c INNER JOIN {MOVED} m"
                f" ON m.{sql.column(ProductionBatch, 'id')} = c.{sql.column(c, 'batch')})",
                (Order.Status.POOLED.value,),
            ),
        )
    }


def _notified(kind: str, *, now, supplier_orders: str | None = None, **context) -> dict[str, sql.Sql]:
    source = batch_orders_source(MOVED, supplier_orders=supplier_orders)
    return {NOTIFIED: notifications_insert(kind, source, now=now, **context)}


# --- set-based transitions -------------------------------------------------------------------


def batches_confirm(*, batch_ids: Iterable, from_status: str = Status.OPEN, actor=None, now: datetime | None = None):
    """Confirm: place one supplier order per batch and move its pooled orders to ``confirmed``
    (on PostgreSQL one statement, supplier orders included)."""
    now = now or timezone.now()
    ids = list(batch_ids)
    with transaction.atomic():
        moved = _transition(
            batch_ids=ids,
            from_status=from_status,
            changes={"batch_status": Status.CONFIRMED, "confirmed_at": now, "updated_at": now},
            writes=lambda: {
                **supplier_orders_insert(_supplier_order_lines(), count=len(ids), now=now),
                **_events(
                    BatchEvent.Kind.CONFIRMED, from_status=from_status, to_status=Status.CONFIRMED, actor=actor, now=now
                ),
                **_notified(Notification.Kind.ORDER_CONFIRMED, now=now, supplier_orders=_placed_supplier_orders()),
                **_pooled_orders_become(Order.Status.CONFIRMED, now=now),
            },
        )
    return [row.id for row in moved]


def _supplier_order_lines() -> sql.Sql:
    """The supplier order of each moved batch: its quantity at the matched offer's tier price
    (``supplier_unit_price``), promised after the offer's lead time."""
    so, f = SupplierOrder, SupplierOffer
    columns = {
        "supplier": _m("supplier"),
        "batch": _m("id"),
        "buyer_order": sql.constant(so, "buyer_order", None),
        "product_type": _m("product_type"),
        "quantity": _m("current_quantity"),
        "supplier_price": _m("supplier_unit_price"),
        "correlation_id": sql.constant(so, "correlation_id", get_correlation_id()),
    }
    selected = ", ".join(f"{value.sql} AS {sql.column(so, name)}" for name, value in columns.items())
    return sql.Sql(
        f"SELECT {selected}, f.{sql.column(f, 'lead_time_days')} AS {sql.column(f, 'lead_time_days')}"
        f" FROM {MOVED} m INNER JOIN {sql.table(f)} f ON f.{sql.column(f, 'id')} = {_m('offer').sql}",
        tuple(param for value in columns.values() for param in value.params),
    )


def _placed_supplier_orders() -> str:
    # In one PostgreSQL statement the new rows are read from the insert; on SQLite it ran before.
    return SUPPLIER_ORDERS if connection.vendor == "postgresql" else sql.table(SupplierOrder)


def batches_send_to_review(*, batch_ids: Iterable, actor=None, now: datetime | None = None):
    """Window closed between the review and confirm thresholds: park for a human, act on nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        moved = _transition(
            batch_ids=batch_ids,
            from_status=Status.OPEN,
            changes={"batch_status": Status.ADMIN_REVIEW, "review_started_at": now, "updated_at": now},
            writes=lambda: {
                **_events(
                    BatchEvent.Kind.ADMIN_REVIEW,
                    from_status=Status.OPEN,
                    to_status=Status.ADMIN_REVIEW,
                    actor=actor,
                    now=now,
                ),
                **_notified(Notification.Kind.BATCH_IN_REVIEW, now=now),
            },
        )
    return [row.id for row in moved]


def batches_cancel(
    *, batch_ids: Iterable, from_status: str = Status.OPEN, reason: str, actor=None, now: datetime | None = None
):
    """Cancel: one refund per pooled order for its total price, orders → ``refunded``."""
    now = now or timezone.now()
    with transaction.atomic():
        moved = _transition(
            batch_ids=batch_ids,
            from_status=from_status,
            changes={"batch_status": Status.CANCELLED, "cancelled_at": now, "updated_at": now},
            writes=lambda: {
                **_refunds(reason=reason, now=now),
                **_events(
                    BatchEvent.Kind.CANCELLED,
                    from_status=from_status,
                    to_status=Status.CANCELLED,
                    actor=actor,
                    now=now,
                    details={"reason": reason},
                ),
                **_notified(Notification.Kind.ORDER_REFUNDED, now=now, reason=reason),
                **_pooled_orders_become(Order.Status.REFUNDED, now=now),
            },
        )
        if moved:
            logger.info("batches.cancelled", extra={"batches": len(moved)})
    return [row.id for row in moved]


def batches_mark_nearing_target(*, batch_ids: Iterable, now: datetime | None = None):
    """The ``nearing_target`` event, at most once in a batch's life (``nearing_target_at`` is the flag)."""
    now = now or timezone.now()
    with transaction.atomic():
        moved = _transition(
            batch_ids=batch_ids,
            from_status=Status.OPEN,
            changes={"nearing_target_at": now, "updated_at": now},
            extra_filter={"nearing_target_at__isnull": True},
            writes=lambda: _events(
                BatchEvent.Kind.NEARING_TARGET, from_status=Status.OPEN, to_status=Status.OPEN, actor=None, now=now
            ),
        )
    return [row.id for row in moved]


def batches_extend_window(*, batch_ids: Iterable, hours: int, actor=None, now: datetime | None = None):
    """Back from review to ``open`` with the window moved ``hours`` past now (or past its old end)."""
    if not 1 <= hours <= MAX_EXTEND_HOURS:
        raise ValueError(f"hours must be between 1 and {MAX_EXTEND_HOURS}")
    now = now or timezone.now()
    extension = timedelta(hours=hours)
    with transaction.atomic():
        moved = _transition(
            batch_ids=batch_ids,
            from_status=Status.ADMIN_REVIEW,
            changes={
                "batch_status": Status.OPEN,
                "window_closes_at": Greatest(F("window_closes_at"), Value(now)) + extension,
                "review_started_at": None,
                "updated_at": now,
            },
            writes=lambda: {
                **_events(
                    BatchEvent.Kind.EXTENDED,
                    from_status=Status.ADMIN_REVIEW,
                    to_status=Status.OPEN,
                    actor=actor,
                    now=now,
                    details={"hours": hours},
                ),
                **_notified(Notification.Kind.BATCH_EXTENDED, now=now, hours=hours),
            },
        )
    return [row.id for row in moved]


# --- single-batch decisions (the review queue, the API, the admin) -------------------------------


def _decide_in_review(batch_id, moved_ids: list, *, actor, action: str, before: ProductionBatch | None):
    """The batch after the decision, its audit entry written; ``BatchNotInReview`` if nothing moved."""
    batch = ProductionBatch.objects.select_related("supplier").filter(id=batch_id).first()
    if not moved_ids:
        raise BatchNotInReview(batch_id, batch.batch_status if batch else None)
    changed_before, changed_after = audit_diff(before, batch)
    audit_record(actor=actor, action=action, obj=batch, before=changed_before, after=changed_after)
    return batch


def _before_decision(batch_id) -> ProductionBatch | None:
    # Locked first, as the compare-and-set would lock it: the "before" of the audit entry is then
    # exactly the row the decision moved (a concurrent decision waits here instead).
    return ProductionBatch.objects.select_for_update().filter(id=batch_id).first()


@transaction.atomic(durable=True)
def review_approve(*, batch_id, actor) -> ProductionBatch:
    """Ops approve a batch in review: confirm it and place its supplier order."""
    before = _before_decision(batch_id)
    return _decide_in_review(
        batch_id,
        batches_confirm(batch_ids=[batch_id], from_status=Status.ADMIN_REVIEW, actor=actor),
        actor=actor,
        action=Action.REVIEW_APPROVE,
        before=before,
    )


@transaction.atomic(durable=True)
def review_cancel(*, batch_id, actor) -> ProductionBatch:
    """Ops cancel a batch in review: refund every order."""
    before = _before_decision(batch_id)
    return _decide_in_review(
        batch_id,
        batches_cancel(
            batch_ids=[batch_id],
            from_status=Status.ADMIN_REVIEW,
            reason="Batch cancelled by operations after review",
            actor=actor,
        ),
        actor=actor,
        action=Action.REVIEW_CANCEL,
        before=before,
    )


@transaction.atomic(durable=True)
def review_extend_window(*, batch_id, hours: int, actor) -> ProductionBatch:
    """Ops give a batch in review more time: back to ``open`` for ``hours`` more."""
    before = _before_decision(batch_id)
    return _decide_in_review(
        batch_id,
        batches_extend_window(batch_ids=[batch_id], hours=hours, actor=actor),
        actor=actor,
        action=Action.REVIEW_EXTEND,
        before=before,
    )
