"""The batch state machine: every transition of a ``ProductionBatch``, each a compare-and-set with
its events and side effects in the same transaction (docs/batches.md).

    open ──► confirmed | admin_review | cancelled
    admin_review ──► confirmed | cancelled | open (window extended)
    open ──► open (nearing_target event, once per batch)
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from batches.models import BatchContribution, BatchEvent, ProductionBatch
from batches.notifications import (
    notify_batches_cancelled,
    notify_batches_confirmed,
    notify_batches_extended,
    notify_batches_in_review,
)
from orders.models import Order, Refund
from sleekbatch import sql
from sleekbatch.audit import Action, audit_diff, audit_record
from sleekbatch.business_events import BusinessKind, business_events_write
from sleekbatch.correlation import get_correlation_id
from suppliers.selectors import supplier_offer_lead_times
from suppliers.services import SupplierOrderLine, supplier_orders_place

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


_RETURNING = tuple(field.name for field in fields(_Moved))


def _compare_and_set(*, batch_ids: Iterable, from_status: str, changes: dict, extra_filter: dict | None = None):
    """Move the batches among ``batch_ids`` that are still in ``from_status``; the rows it moved.

    On PostgreSQL a concurrent transaction that moved a row first makes this UPDATE wait,
    re-check the row after that commit, find the status changed and skip it; on SQLite the
    write lock is held from BEGIN (IMMEDIATE), so nothing interleaves at all.
    """
    ids = list(batch_ids)
    if not ids:
        return []
    queryset = ProductionBatch.objects.filter(id__in=ids, batch_status=from_status, **(extra_filter or {}))
    return [_Moved(*row) for row in sql.update_returning(queryset, changes, _RETURNING)]


def _write_events(moved: Sequence[_Moved], *, kind, from_status, to_status, actor, now, details=None) -> int:
    """One batch event and one business event per moved batch, both selected from the batch rows
    (their fill and quantity do not move here), in the transition's transaction."""
    if not moved:
        return 0
    batch_ids = sql.in_list(ProductionBatch, "id", [row.id for row in moved])
    batches = sql.Sql(
        f"FROM {sql.table(ProductionBatch)} WHERE {sql.column(ProductionBatch, 'id')} IN ({batch_ids.sql})",
        batch_ids.params,
    )
    # fill_basis_points is the floor of the fill in hundredths of a percent: exact at 2 places.
    fill = sql.Sql(f"{sql.column(ProductionBatch, 'fill_basis_points')} / 100.0")
    written = sql.execute(
        sql.insert_select(
            BatchEvent,
            {
                "batch": sql.Sql(sql.column(ProductionBatch, "id")),
                "kind": kind,
                "from_status": from_status,
                "to_status": to_status,
                "fill_percent": fill,
                "actor": actor.pk if actor is not None else None,
                "correlation_id": get_correlation_id(),
                "details": details or {},
                "created_at": now,
            },
            batches,
        )
    )
    business_events_write(_business_event(kind, from_status, now=now, fill=fill, details=details or {}), batches)
    return written


_BUSINESS_KINDS = {
    BatchEvent.Kind.NEARING_TARGET: BusinessKind.BATCH_NEARING_TARGET,
    BatchEvent.Kind.ADMIN_REVIEW: BusinessKind.BATCH_SENT_TO_REVIEW,
    BatchEvent.Kind.CANCELLED: BusinessKind.BATCH_CANCELLED,
    BatchEvent.Kind.EXTENDED: BusinessKind.BATCH_EXTENDED,
}


def _business_event(kind, from_status, *, now, fill: sql.Sql, details: dict) -> dict:
    """The business event of a transition, as columns of the moved batch rows."""
    column = sql.column
    values = {
        "occurred_at": now,
        "product_type": sql.Sql(column(ProductionBatch, "product_type")),
        "batch_id": sql.Sql(column(ProductionBatch, "id")),
        "supplier_id": sql.Sql(column(ProductionBatch, "supplier")),
        "quantity": sql.Sql(column(ProductionBatch, "current_quantity")),
        "fill_percent": fill,
        "batch_opened_at": sql.Sql(column(ProductionBatch, "created_at")),
        "reason": details.get("reason", ""),
    }
    if kind == BatchEvent.Kind.CONFIRMED:
        # Revenue: the total price of the batch's pooled orders, read before they move to confirmed.
        o, c = Order, BatchContribution
        revenue = sql.Sql(
            f"(SELECT COALESCE(SUM(o.{column(o, 'total_price')}), 0) FROM {sql.table(o)} o"
            f" INNER JOIN {sql.table(c)} c ON c.{column(c, 'order')} = o.{column(o, 'id')}"
            f" WHERE c.{column(c, 'batch')} = {sql.table(ProductionBatch)}.{column(ProductionBatch, 'id')}"
            f" AND o.{column(o, 'workflow_status')} = %s)",
            (Order.Status.POOLED.value,),
        )
        approved = from_status == Status.ADMIN_REVIEW
        return {
            **values,
            "kind": BusinessKind.BATCH_APPROVED if approved else BusinessKind.BATCH_CONFIRMED,
            "amount": revenue,
        }
    if kind == BatchEvent.Kind.EXTENDED:
        values["duration_seconds"] = details["hours"] * 3600
    return {**values, "kind": _BUSINESS_KINDS[kind]}


def _refund_pooled_orders(moved: Sequence[_Moved], *, reason: str, now) -> int:
    """One refund, and its business event, per pooled order of the moved batches, for the order's total price."""
    if not moved:
        return 0
    batch_ids = sql.in_list(BatchContribution, "batch", [row.id for row in moved])
    order_id, contribution_order_id = sql.column(Order, "id"), sql.column(BatchContribution, "order")
    pooled_orders = sql.Sql(
        f"FROM {sql.table(Order)} o INNER JOIN {sql.table(BatchContribution)} c"
        f" ON c.{contribution_order_id} = o.{order_id}"
        f" WHERE o.{sql.column(Order, 'workflow_status')} = %s"
        f" AND c.{sql.column(BatchContribution, 'batch')} IN ({batch_ids.sql})",
        (Order.Status.POOLED, *batch_ids.params),
    )
    amount = sql.Sql(f"COALESCE(o.{sql.column(Order, 'total_price')}, 0)")
    refunds = sql.execute(
        sql.insert_select(
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
    )
    business_events_write(
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
    return refunds


# --- set-based transitions -------------------------------------------------------------------


def batches_confirm(*, batch_ids: Iterable, from_status: str = Status.OPEN, actor=None, now: datetime | None = None):
    """Confirm: place one supplier order per batch and move its pooled orders to ``confirmed``."""
    now = now or timezone.now()
    correlation_id = get_correlation_id()
    with transaction.atomic():
        moved = _compare_and_set(
            batch_ids=batch_ids,
            from_status=from_status,
            changes={"batch_status": Status.CONFIRMED, "confirmed_at": now, "updated_at": now},
        )
        if not moved:
            return []
        lead_times = supplier_offer_lead_times(offer_ids=[row.offer_id for row in moved])
        supplier_orders_place(
            lines=[
                SupplierOrderLine(
                    supplier_id=row.supplier_id,
                    batch_id=row.id,
                    product_type=row.product_type,
                    quantity=row.current_quantity,
                    supplier_price=row.supplier_unit_price,
                    lead_time_days=lead_times[row.offer_id],
                    correlation_id=correlation_id,
                )
                for row in moved
            ],
            now=now,
        )
        _write_events(
            moved,
            kind=BatchEvent.Kind.CONFIRMED,
            from_status=from_status,
            to_status=Status.CONFIRMED,
            actor=actor,
            now=now,
        )
        _pooled_orders_of(moved).update(workflow_status=Order.Status.CONFIRMED, updated_at=now)
        notify_batches_confirmed([row.id for row in moved])
    return [row.id for row in moved]


def batches_send_to_review(*, batch_ids: Iterable, actor=None, now: datetime | None = None):
    """Window closed between the review and confirm thresholds: park for a human, act on nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        moved = _compare_and_set(
            batch_ids=batch_ids,
            from_status=Status.OPEN,
            changes={"batch_status": Status.ADMIN_REVIEW, "review_started_at": now, "updated_at": now},
        )
        _write_events(
            moved,
            kind=BatchEvent.Kind.ADMIN_REVIEW,
            from_status=Status.OPEN,
            to_status=Status.ADMIN_REVIEW,
            actor=actor,
            now=now,
        )
        notify_batches_in_review([row.id for row in moved], now=now)
    return [row.id for row in moved]


def batches_cancel(
    *, batch_ids: Iterable, from_status: str = Status.OPEN, reason: str, actor=None, now: datetime | None = None
):
    """Cancel: one refund per pooled order for its total price, orders → ``refunded``."""
    now = now or timezone.now()
    with transaction.atomic():
        moved = _compare_and_set(
            batch_ids=batch_ids,
            from_status=from_status,
            changes={"batch_status": Status.CANCELLED, "cancelled_at": now, "updated_at": now},
        )
        if not moved:
            return []
        refunds = _refund_pooled_orders(moved, reason=reason, now=now)
        _write_events(
            moved,
            kind=BatchEvent.Kind.CANCELLED,
            from_status=from_status,
            to_status=Status.CANCELLED,
            actor=actor,
            now=now,
            details={"reason": reason},
        )
        logger.info("batches.cancelled", extra={"batches": len(moved), "refunds": refunds})
        _pooled_orders_of(moved).update(workflow_status=Order.Status.REFUNDED, updated_at=now)
        notify_batches_cancelled([row.id for row in moved], reason=reason)
    return [row.id for row in moved]


def batches_mark_nearing_target(*, batch_ids: Iterable, now: datetime | None = None):
    """The ``nearing_target`` event, at most once in a batch's life (``nearing_target_at`` is the flag)."""
    now = now or timezone.now()
    with transaction.atomic():
        moved = _compare_and_set(
            batch_ids=batch_ids,
            from_status=Status.OPEN,
            changes={"nearing_target_at": now, "updated_at": now},
            extra_filter={"nearing_target_at__isnull": True},
        )
        _write_events(
            moved,
            kind=BatchEvent.Kind.NEARING_TARGET,
            from_status=Status.OPEN,
            to_status=Status.OPEN,
            actor=None,
            now=now,
        )
    return [row.id for row in moved]


def batches_extend_window(*, batch_ids: Iterable, hours: int, actor=None, now: datetime | None = None):
    """Back from review to ``open`` with the window moved ``hours`` past now (or past its old end)."""
    if not 1 <= hours <= MAX_EXTEND_HOURS:
        raise ValueError(f"hours must be between 1 and {MAX_EXTEND_HOURS}")
    now = now or timezone.now()
    extension = timedelta(hours=hours)
    with transaction.atomic():
        moved = _compare_and_set(
            batch_ids=batch_ids,
            from_status=Status.ADMIN_REVIEW,
            changes={
                "batch_status": Status.OPEN,
                "window_closes_at": Greatest(F("window_closes_at"), Value(now)) + extension,
                "review_started_at": None,
                "updated_at": now,
            },
        )
        _write_events(
            moved,
            kind=BatchEvent.Kind.EXTENDED,
            from_status=Status.ADMIN_REVIEW,
            to_status=Status.OPEN,
            actor=actor,
            now=now,
            details={"hours": hours},
        )
        notify_batches_extended([row.id for row in moved], hours=hours, now=now)
    return [row.id for row in moved]


def _pooled_orders_of(moved: Sequence[_Moved]):
    return Order.objects.filter(
        contribution__batch_id__in=[row.id for row in moved], workflow_status=Order.Status.POOLED
    )


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
