"""Storing one claim's routes, set-based, inside the claim's transaction: one statement per kind
of row on PostgreSQL (the measured reason: docs/pooling.md, "The writes"), the ORM elsewhere.
"""

import json
import logging
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import F

from batches.models import BatchContribution, BatchEvent, ProductionBatch
from batches.notifications import notifications_insert, rejected_orders_source
from batches.pooling.routing import BatchSlot, ClaimPlan, OrderRoute
from batches.tasks import orchestrate_batches
from orders.models import Notification, Order
from orders.notifications import notifications_recorded
from sleekbatch import sql
from sleekbatch.business_events import BusinessKind, business_events_insert, business_events_write, outcome_kind_sql
from sleekbatch.correlation import get_correlation_id
from suppliers.services import SupplierOrderLine, supplier_orders_place

logger = logging.getLogger(__name__)


def plan_write(plan: ClaimPlan, *, now: datetime) -> list:
    """Store the plan; returns the ids of the batches it brought to the confirm threshold."""
    grown = plan.grown_slots
    created = [slot for slot in grown if slot.is_new]
    joined = [slot for slot in grown if not slot.is_new]
    postgres = connection.vendor == "postgresql"
    if created:
        (_create_batches_postgres if postgres else _create_batches_portable)(created, now)
    if joined:
        (_grow_batches_postgres if postgres else _grow_batches_portable)(joined, now)
    direct = [route for route in plan.routes if route.direct_offer is not None]
    if direct:
        supplier_orders_place(lines=[_direct_line(route) for route in direct], now=now)
    moved = (_move_orders_postgres if postgres else _move_orders_portable)(plan.routes, now)
    if moved != len(plan.routes):
        # Claimed rows are locked by this transaction, so this is a bug: roll it all back.
        raise RuntimeError(f"pooling moved {moved} of {len(plan.routes)} claimed orders")
    crossed = [slot.id for slot in grown if slot.crossed(settings.BATCH_CONFIRM_FILL_PERCENT)]
    pooled = sum(1 for route in plan.routes if route.slot is not None)
    logger.info(
        "pooling_claim_done",
        extra={
            "orders": len(plan.routes),
            "pooled": pooled,
            "direct": len(direct),
            "rejected": len(plan.routes) - pooled - len(direct),
            "batches_opened": len(created),
            "batches_joined": len(joined),
            "batches_at_confirm": len(crossed),
        },
    )
    return crossed


def request_orchestration(batch_ids: list) -> None:
    """Have the batches a claim brought to the confirm threshold decided (called after commit).

    One message for all of them: a message costs a worker ~1.4 ms of CPU, more than
    pooling ten orders. Failing to send is logged, not raised: the pooling is committed,
    and the beat sweep finds these batches by their fill.
    """
    if not batch_ids:
        return
    try:
        orchestrate_batches.delay(sorted(str(batch_id) for batch_id in batch_ids))
    except Exception:
        logger.warning("pooling_orchestration_request_failed", exc_info=True, extra={"batches": len(batch_ids)})


def _direct_line(route: OrderRoute) -> SupplierOrderLine:
    offer, order = route.direct_offer, route.order
    return SupplierOrderLine(
        supplier_id=offer.supplier_id,
        buyer_order_id=order.id,
        product_type=order.product_type,
        quantity=order.quantity,
        supplier_price=offer.supplier_price_at(order.quantity),
        lead_time_days=offer.lead_time_days,
        correlation_id=order.correlation_id,
    )


def _created_event_details(slot: BatchSlot) -> dict:
    return {
        "offer_id": slot.offer_id,
        "target_quantity": slot.target_quantity,
        "supplier_unit_price": str(slot.supplier_unit_price),
        "matched_score": None if slot.matched_score is None else str(slot.matched_score),
    }


# --- PostgreSQL: one statement each, rows as one JSON parameter ---------------------------

_NEW_BATCH_FIELDS = (
    "id",
    "product_type",
    "supplier_id",
    "offer_id",
    "target_quantity",
    "current_quantity",
    "styles",
    "max_styles",
    "supplier_unit_price",
    "matched_score",
)


def _create_batches_postgres(slots: list[BatchSlot], now: datetime) -> None:
    # New batches are written once, with the quantity this claim gave them; their
    # "created" event goes in with them.
    rows = [
        {
            "id": str(slot.id),
            "product_type": slot.product_type,
            "supplier_id": slot.supplier_id,
            "offer_id": slot.offer_id,
            "target_quantity": slot.target_quantity,
            "current_quantity": slot.quantity,
            "styles": sorted(slot.styles),
            "max_styles": slot.max_styles,
            "supplier_unit_price": str(slot.supplier_unit_price),
            "matched_score": None if slot.matched_score is None else str(slot.matched_score),
            "details": _created_event_details(slot),
        }
        for slot in slots
    ]
    new_rows = sql.Sql(f"FROM {sql.recordset(ProductionBatch, _NEW_BATCH_FIELDS, extra={'details': 'jsonb'})}")
    batches = sql.insert_select(
        ProductionBatch,
        {
            **{name: sql.Sql(f"r.{name}") for name in _NEW_BATCH_FIELDS},
            "batch_status": ProductionBatch.Status.OPEN,
            "window_closes_at": now + settings.BATCH_WINDOW,
            "created_at": now,
            "updated_at": now,
        },
        sql.Sql("FROM new_batch AS r"),
    )
    events = sql.insert_select(
        BatchEvent,
        {
            "batch": sql.Sql("r.id"),
            "kind": BatchEvent.Kind.CREATED,
            "from_status": "",
            "to_status": ProductionBatch.Status.OPEN,
            "fill_percent": Decimal("0.00"),
            "correlation_id": get_correlation_id(),
            "details": sql.Sql("r.details"),
            "created_at": now,
        },
        sql.Sql("FROM new_batch AS r"),
    )
    opened = business_events_insert(_opened_event(now, batch="r"), sql.Sql("FROM new_batch AS r"))
    also = sql.Sql(f", opened AS ({opened.sql})", opened.params) if opened else sql.Sql("")
    sql.execute(
        sql.Sql(
            f"WITH new_batch AS (SELECT * {new_rows.sql}), created AS ({batches.sql}){also.sql} {events.sql}",
            (json.dumps(rows), *batches.params, *also.params, *events.params),
        )
    )


def _opened_event(now: datetime, *, batch: str) -> dict:
    """The batch_opened business event, over rows of new batches aliased ``batch``."""

    def column(name: str) -> sql.Sql:
        return sql.Sql(f"{batch}.{sql.column(ProductionBatch, name)}")

    return {
        "kind": BusinessKind.BATCH_OPENED,
        "occurred_at": now,
        "product_type": column("product_type"),
        "batch_id": column("id"),
        "supplier_id": column("supplier"),
        "quantity": column("target_quantity"),
    }


def _grow_batches_postgres(slots: list[BatchSlot], now: datetime) -> None:
    # An increment on the row, like F("current_quantity") + n: the value read under the
    # lock is never written back, so the statement is right even if that read were stale.
    rows = [
        {
            "id": str(slot.id),
            "added": slot.quantity - slot.quantity_before,
            "styles": sorted(slot.styles) if slot.styles != slot.styles_before else None,
        }
        for slot in slots
    ]
    quantity, styles = sql.column(ProductionBatch, "current_quantity"), sql.column(ProductionBatch, "styles")
    sql.execute(
        sql.Sql(
            f"UPDATE {sql.table(ProductionBatch)} AS b"
            f" SET {quantity} = b.{quantity} + g.added, {styles} = coalesce(g.styles, b.{styles}),"
            f" {sql.column(ProductionBatch, 'updated_at')} = %s"
            f" FROM {sql.recordset(ProductionBatch, ['id', 'styles'], extra={'added': 'integer'}, alias='g')}"
            f" WHERE b.{sql.column(ProductionBatch, 'id')} = g.id",
            (now, json.dumps(rows)),
        )
    )


_DECIDED_FIELDS = ("id", "workflow_status", "is_batch_order", "unit_price", "total_price", "rejection_reason")


def _move_orders_postgres(routes: list[OrderRoute], now: datetime) -> int:
    """Every claimed order's new state and the pooled ones' contributions, in one statement.

    Quantity and style_details of a contribution are copied from the locked order row
    itself. ``workflow_status = 'submitted'`` in the WHERE counts each row exactly once.
    """
    rows = [
        {
            "id": str(route.order.id),
            "workflow_status": str(route.status),
            "is_batch_order": route.is_batch_order,
            "unit_price": None if route.unit_price is None else str(route.unit_price),
            "total_price": None if route.total_price is None else str(route.total_price),
            "rejection_reason": route.rejection_reason,
            "batch_id": None if route.slot is None else str(route.slot.id),
        }
        for route in routes
    ]
    order = {
        name: sql.column(Order, name)
        for name in (
            *_DECIDED_FIELDS,
            "quantity",
            "style_details",
            "created_at",
            "product_type",
            "correlation_id",
            "buyer",
        )
    }
    rejected_moved = rejected_orders_source("moved")
    assignments = ", ".join(f"{order[name]} = d.{name}" for name in _DECIDED_FIELDS if name != "id")
    contributions = sql.insert_select(
        BatchContribution,
        {
            "batch": sql.Sql("m.batch_id"),
            "order": sql.Sql("m.id"),
            "quantity_contributed": sql.Sql("m.quantity"),
            "style_details": sql.Sql("m.style_details"),
            "unit_price": sql.Sql("m.unit_price"),
            "committed_at": now,
        },
        sql.Sql("FROM moved AS m WHERE m.batch_id IS NOT NULL"),
    )
    # Each order's two business events (submitted, at its created_at; then its outcome, now),
    # from the rows this very statement moved.
    outcome = outcome_kind_sql("m.workflow_status", "m.is_batch_order", rejected_status=Order.Status.REJECTED)
    events = business_events_insert(
        {
            "kind": sql.Sql("e.kind"),
            "occurred_at": sql.Sql("e.occurred_at"),
            "product_type": sql.Sql("m.product_type"),
            "order_id": sql.Sql("m.id"),
            "batch_id": sql.Sql("e.batch_id"),
            "quantity": sql.Sql("m.quantity"),
            "amount": sql.Sql("e.amount"),
            "reason": sql.Sql("e.reason"),
            "correlation_id": sql.Sql("m.correlation_id"),
        },
        sql.Sql(
            "FROM moved AS m CROSS JOIN LATERAL (VALUES"
            " (%s, m.created_at, NULL::uuid, NULL::numeric, ''),"
            f" ({outcome.sql}, %s::timestamptz, m.batch_id, m.total_price, m.rejection_reason)"
            ") AS e(kind, occurred_at, batch_id, amount, reason)",
            (BusinessKind.ORDER_SUBMITTED.value, *outcome.params, now),
        ),
    )
    recorded = sql.Sql(f", recorded AS ({events.sql})", events.params) if events else sql.Sql("")
    # The rejected orders' buyers are told, in the same statement.
    notified = sql.returning_one(notifications_insert(Notification.Kind.ORDER_REJECTED, rejected_moved, now=now))
    (moved, notifications) = sql.fetch_one(
        sql.Sql(
            f"WITH moved AS ("
            f" UPDATE {sql.table(Order)} AS o SET {assignments},"
            f" {sql.column(Order, 'pooled_at')} = %s, {sql.column(Order, 'updated_at')} = %s"
            f" FROM {sql.recordset(Order, _DECIDED_FIELDS, extra={'batch_id': 'uuid'}, alias='d')}"
            f" WHERE o.{order['id']} = d.id AND o.{order['workflow_status']} = %s"
            f" RETURNING o.{order['id']} AS id, o.{order['quantity']} AS quantity,"
            f" o.{order['style_details']} AS style_details, d.unit_price, d.batch_id,"
            f" o.{order['created_at']} AS created_at, o.{order['product_type']} AS product_type,"
            f" o.{order['correlation_id']} AS correlation_id, o.{order['buyer']} AS {order['buyer']},"
            f" d.workflow_status, d.is_batch_order, d.total_price, d.rejection_reason"
            f"), contributed AS ({contributions.sql}){recorded.sql}, notified AS ({notified.sql})"
            f" SELECT count(*), (SELECT count(*) FROM notified) FROM moved",
            (
                now,
                now,
                json.dumps(rows),
                Order.Status.SUBMITTED.value,
                *contributions.params,
                *recorded.params,
                *notified.params,
            ),
        )
    )
    notifications_recorded(notifications)
    return moved


# --- Elsewhere (SQLite): the ORM -------------------------------------------------------------


def _create_batches_portable(slots: list[BatchSlot], now: datetime) -> None:
    ProductionBatch.objects.bulk_create(
        [
            ProductionBatch(
                id=slot.id,
                product_type=slot.product_type,
                supplier_id=slot.supplier_id,
                offer_id=slot.offer_id,
                batch_status=ProductionBatch.Status.OPEN,
                target_quantity=slot.target_quantity,
                current_quantity=slot.quantity,
                styles=sorted(slot.styles),
                max_styles=slot.max_styles,
                supplier_unit_price=slot.supplier_unit_price,
                matched_score=slot.matched_score,
                window_closes_at=now + settings.BATCH_WINDOW,
            )
            for slot in slots
        ]
    )
    correlation_id = get_correlation_id()
    BatchEvent.objects.bulk_create(
        [
            BatchEvent(
                batch_id=slot.id,
                kind=BatchEvent.Kind.CREATED,
                to_status=ProductionBatch.Status.OPEN,
                fill_percent=Decimal("0.00"),
                correlation_id=correlation_id,
                details=_created_event_details(slot),
            )
            for slot in slots
        ]
    )
    batch_ids = sql.in_list(ProductionBatch, "id", [slot.id for slot in slots])
    business_events_write(
        _opened_event(now, batch="b"),
        sql.Sql(
            f"FROM {sql.table(ProductionBatch)} AS b WHERE b.{sql.column(ProductionBatch, 'id')} IN ({batch_ids.sql})",
            batch_ids.params,
        ),
    )


def _grow_batches_portable(slots: list[BatchSlot], now: datetime) -> None:
    for slot in slots:
        changes = {"current_quantity": F("current_quantity") + (slot.quantity - slot.quantity_before)}
        if slot.styles != slot.styles_before:
            changes["styles"] = sorted(slot.styles)
        ProductionBatch.objects.filter(pk=slot.id).update(**changes, updated_at=now)


def _move_orders_portable(routes: list[OrderRoute], now: datetime) -> int:
    BatchContribution.objects.bulk_create(
        [
            BatchContribution(
                batch_id=route.slot.id,
                order_id=route.order.id,
                quantity_contributed=route.order.quantity,
                style_details=route.order.style_details,
                unit_price=route.unit_price,
            )
            for route in routes
            if route.slot is not None
        ]
    )
    orders = [
        Order(
            id=route.order.id,
            workflow_status=route.status,
            is_batch_order=route.is_batch_order,
            unit_price=route.unit_price,
            total_price=route.total_price,
            rejection_reason=route.rejection_reason,
            pooled_at=now,
            updated_at=now,
        )
        for route in routes
    ]
    fields = ["workflow_status", "is_batch_order", "unit_price", "total_price", "rejection_reason"]
    moved = Order.objects.bulk_update(orders, [*fields, "pooled_at", "updated_at"])
    _record_order_events_portable([route.order.id for route in routes], now)
    rejected = [route.order.id for route in routes if route.status == Order.Status.REJECTED]
    if rejected:
        source = rejected_orders_source(sql.table(Order), ids=rejected)
        notifications_recorded(sql.execute(notifications_insert(Notification.Kind.ORDER_REJECTED, source, now=now)))
    return moved


def _record_order_events_portable(order_ids: list, now: datetime) -> None:
    """Submitted and outcome events of the claimed orders, selected from their updated rows."""
    o = {
        name: f"o.{sql.column(Order, name)}"
        for name in (*_DECIDED_FIELDS, "created_at", "product_type", "quantity", "correlation_id")
    }
    ids = sql.in_list(Order, "id", order_ids)
    contribution = f"c.{sql.column(BatchContribution, 'order')}"
    source = sql.Sql(
        f"FROM {sql.table(Order)} AS o LEFT JOIN {sql.table(BatchContribution)} AS c ON {contribution} = {o['id']}"
        f" WHERE {o['id']} IN ({ids.sql})",
        ids.params,
    )
    common = {
        "product_type": sql.Sql(o["product_type"]),
        "order_id": sql.Sql(o["id"]),
        "quantity": sql.Sql(o["quantity"]),
        "correlation_id": sql.Sql(o["correlation_id"]),
    }
    business_events_write(
        {**common, "kind": BusinessKind.ORDER_SUBMITTED, "occurred_at": sql.Sql(o["created_at"])}, source
    )
    business_events_write(
        {
            **common,
            "kind": outcome_kind_sql(o["workflow_status"], o["is_batch_order"], rejected_status=Order.Status.REJECTED),
            "occurred_at": now,
            "batch_id": sql.Sql(f"c.{sql.column(BatchContribution, 'batch')}"),
            "amount": sql.Sql(o["total_price"]),
            "reason": sql.Sql(o["rejection_reason"]),
        },
        source,
    )
