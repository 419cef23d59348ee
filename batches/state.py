"""The batch state machine: every transition of a ``ProductionBatch`` lives here.

    open ──► confirmed | admin_review | cancelled
    admin_review ──► confirmed | cancelled | open (window extended)
    open ──► open (nearing_target event, once per batch)

Each transition is a compare-and-set (``UPDATE … WHERE batch_status = <from> AND id IN (…)
RETURNING …``): only the rows this call actually moved get an event and side effects, all in the
same transaction. A second sweep, a redelivered task or a double click finds the row already
moved, updates nothing and therefore writes nothing. The unique constraints (one supplier order
per batch, one refund per order, one confirmed/cancelled/nearing event per batch) are the
backstop: a bug that slipped past the compare-and-set fails loudly instead of paying twice.

The set-based functions (``batches_*``) move many batches with a handful of statements whatever
their number; the single-batch decisions of the review queue (``batch_*``) call them with one id.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.db.models.sql.subqueries import UpdateQuery
from django.utils import timezone

from batches.models import BatchContribution, BatchEvent, ProductionBatch
from orders.models import Order, Refund
from sleekbatch.correlation import get_correlation_id
from suppliers.models import SupplierOrder
from suppliers.numbers import new_supplier_order_number

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


_RETURNING = (
    "id",
    "supplier_id",
    "product_type",
    "current_quantity",
    "target_quantity",
    "supplier_unit_price",
    "offer_id",
)


def _compare_and_set(*, batch_ids: Iterable, from_status: str, changes: dict, extra_filter: dict | None = None):
    """``UPDATE … SET changes WHERE id IN (…) AND batch_status = from_status RETURNING …``.

    Only the rows this statement moved come back. On PostgreSQL a concurrent transaction that
    moved a row first makes this UPDATE wait, re-check the row after that commit, find the status
    changed and skip it; on SQLite the write lock is held from BEGIN (IMMEDIATE), so nothing
    interleaves at all.
    """
    ids = list(batch_ids)
    if not ids:
        return []
    queryset = ProductionBatch.objects.filter(id__in=ids, batch_status=from_status, **(extra_filter or {}))
    # The ORM writes the UPDATE (expressions, parameter adaptation, the WHERE) exactly as
    # QuerySet.update() would; Django 5.2 has no RETURNING for updates, so it is appended here.
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(changes)
    sql, params = query.get_compiler(connection=connection).as_sql()
    fields = [ProductionBatch._meta.get_field(name) for name in _RETURNING]
    returning = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {returning}", params)
        rows = cursor.fetchall()
    return [_Moved(*(_from_db(field, value) for field, value in zip(fields, row, strict=True))) for row in rows]


def _from_db(field, value):
    # A raw cursor skips the ORM's converters: SQLite returns UUIDs as hex and decimals as floats.
    value = field.to_python(value)
    if isinstance(value, Decimal):
        value = value.quantize(Decimal("0.01"))
    return value


class _Sql(NamedTuple):
    """A SQL expression for ``_insert_select`` (anything else is bound as a parameter)."""

    sql: str
    params: tuple = ()


def _quoted(model, attname: str | None = None) -> str:
    if attname is None:
        return connection.ops.quote_name(model._meta.db_table)
    return connection.ops.quote_name(model._meta.get_field(attname).column)


def _in_list(values: Sequence, field) -> _Sql:
    return _Sql(", ".join(["%s"] * len(values)), tuple(field.get_db_prep_value(v, connection) for v in values))


def _insert_select(model, values: dict, source: _Sql) -> int:
    """``INSERT INTO <model> (…) SELECT … <source>``: many rows in one statement, none through Python.

    ``values`` maps field attnames to an ``_Sql`` expression over the source rows or to a constant,
    which the field prepares for the database as the ORM would. Fields not named get their
    default, so a field added to the model later needs no change here.
    """
    columns, expressions, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.attname not in values and (field.primary_key or getattr(field, "generated", False)):
            continue  # the database assigns it
        value = values[field.attname] if field.attname in values else field.get_default()
        columns.append(connection.ops.quote_name(field.column))
        if isinstance(value, _Sql):
            expressions.append(value.sql)
            params.extend(value.params)
        else:
            expressions.append("%s")
            params.append(field.get_db_prep_save(value, connection))
    sql = f"INSERT INTO {_quoted(model)} ({', '.join(columns)}) SELECT {', '.join(expressions)} {source.sql}"
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, *source.params))
        return cursor.rowcount


def _write_events(moved: Sequence[_Moved], *, kind, from_status, to_status, actor, now, details=None) -> int:
    """One event per moved batch, its fill read from the batch row (quantities do not move here)."""
    if not moved:
        return 0
    batch_ids = _in_list([row.id for row in moved], ProductionBatch._meta.pk)
    return _insert_select(
        BatchEvent,
        {
            "batch_id": _Sql(_quoted(ProductionBatch, "id")),
            "kind": kind,
            "from_status": from_status,
            "to_status": to_status,
            # fill_basis_points is the floor of the fill in hundredths of a percent: exact at 2 places.
            "fill_percent": _Sql(f"{_quoted(ProductionBatch, 'fill_basis_points')} / 100.0"),
            "actor_id": actor.pk if actor is not None else None,
            "correlation_id": get_correlation_id(),
            "details": details or {},
            "created_at": now,
        },
        _Sql(
            f"FROM {_quoted(ProductionBatch)} WHERE {_quoted(ProductionBatch, 'id')} IN ({batch_ids.sql})",
            batch_ids.params,
        ),
    )


def _refund_pooled_orders(moved: Sequence[_Moved], *, reason: str, now) -> int:
    """One refund per pooled order of the moved batches, for the order's total price."""
    if not moved:
        return 0
    order, contribution = Order, BatchContribution
    batch_ids = _in_list([row.id for row in moved], BatchContribution._meta.get_field("batch"))
    return _insert_select(
        Refund,
        {
            "order_id": _Sql(f"o.{_quoted(order, 'id')}"),
            "amount": _Sql(f"COALESCE(o.{_quoted(order, 'total_price')}, 0)"),
            "reason": reason,
            "correlation_id": get_correlation_id(),
            "created_at": now,
        },
        _Sql(
            f"FROM {_quoted(order)} o INNER JOIN {_quoted(contribution)} c"
            f" ON c.{_quoted(contribution, 'order_id')} = o.{_quoted(order, 'id')}"
            f" WHERE o.{_quoted(order, 'workflow_status')} = %s AND c.{_quoted(contribution, 'batch_id')} IN"
            f" ({batch_ids.sql})",
            (Order.Status.POOLED, *batch_ids.params),
        ),
    )


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
        lead_times = _offer_lead_times(moved)
        SupplierOrder.objects.bulk_create(
            SupplierOrder(
                order_number=new_supplier_order_number(),
                supplier_id=row.supplier_id,
                batch_id=row.id,
                product_type=row.product_type,
                quantity=row.current_quantity,
                supplier_price=row.supplier_unit_price,
                promised_date=(now + timedelta(days=lead_times[row.offer_id])).date(),
                correlation_id=correlation_id,
            )
            for row in moved
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
    return [row.id for row in moved]


def _pooled_orders_of(moved: Sequence[_Moved]):
    return Order.objects.filter(
        contribution__batch_id__in=[row.id for row in moved], workflow_status=Order.Status.POOLED
    )


def _offer_lead_times(moved: Sequence[_Moved]) -> dict[int, int]:
    from suppliers.models import SupplierOffer

    offer_ids = {row.offer_id for row in moved}
    return dict(SupplierOffer.objects.filter(id__in=offer_ids).values_list("id", "lead_time_days"))


# --- single-batch decisions (the review queue, the API, the admin) -------------------------------


def _decide_in_review(batch_id, moved_ids: list) -> ProductionBatch:
    batch = ProductionBatch.objects.select_related("supplier").filter(id=batch_id).first()
    if not moved_ids:
        raise BatchNotInReview(batch_id, batch.batch_status if batch else None)
    return batch


@transaction.atomic(durable=True)
def batch_approve(*, batch_id, actor) -> ProductionBatch:
    """Ops approve a batch in review: confirm it and place its supplier order."""
    return _decide_in_review(
        batch_id, batches_confirm(batch_ids=[batch_id], from_status=Status.ADMIN_REVIEW, actor=actor)
    )


@transaction.atomic(durable=True)
def batch_cancel(*, batch_id, actor) -> ProductionBatch:
    """Ops cancel a batch in review: refund every order."""
    return _decide_in_review(
        batch_id,
        batches_cancel(
            batch_ids=[batch_id],
            from_status=Status.ADMIN_REVIEW,
            reason="Batch cancelled by operations after review",
            actor=actor,
        ),
    )


@transaction.atomic(durable=True)
def batch_extend_window(*, batch_id, hours: int, actor) -> ProductionBatch:
    """Ops give a batch in review more time: back to ``open`` for ``hours`` more."""
    return _decide_in_review(batch_id, batches_extend_window(batch_ids=[batch_id], hours=hours, actor=actor))
