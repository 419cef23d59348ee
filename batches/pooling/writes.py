"""Storing one claim's decisions, in bulk, inside the claim's transaction.

Per claim, whatever its size: new batches and their "created" events, one quantity
increment per grown batch, the direct supplier orders, and every order's new state
with the pooled orders' contributions. On PostgreSQL each of these is one statement
that takes its rows as a single JSON document: measured on the 2-core reference
machine, Django's bulk_create / bulk_update spent ~200 ms per 1,000 orders building
and adapting per-row parameters in Python, the JSON statements ~40 ms. Elsewhere
(SQLite) the ORM does the same work, row by row where it must; the tests run both.
"""

import json
import logging
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import F

from batches.models import BatchContribution, BatchEvent, ProductionBatch
from batches.pooling.routing import BatchSlot, ClaimPlan, Decision
from batches.tasks import orchestrate_batches
from orders.models import Order
from sleekbatch.correlation import get_correlation_id
from suppliers.services import DirectOrderLine, supplier_orders_create_direct

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
    direct = [decision for decision in plan.decisions if decision.direct_offer is not None]
    if direct:
        supplier_orders_create_direct(lines=[_direct_line(decision) for decision in direct])
    moved = (_move_orders_postgres if postgres else _move_orders_portable)(plan.decisions, now)
    if moved != len(plan.decisions):
        # Claimed rows are locked by this transaction, so this is a bug: roll it all back.
        raise RuntimeError(f"pooling moved {moved} of {len(plan.decisions)} claimed orders")
    crossed = [slot.id for slot in grown if slot.crossed(settings.BATCH_CONFIRM_FILL_PERCENT)]
    pooled = sum(1 for decision in plan.decisions if decision.slot is not None)
    logger.info(
        "pooling_claim_done",
        extra={
            "orders": len(plan.decisions),
            "pooled": pooled,
            "direct": len(direct),
            "rejected": len(plan.decisions) - pooled - len(direct),
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


def _direct_line(decision: Decision) -> DirectOrderLine:
    return DirectOrderLine(
        buyer_order_id=decision.order.id,
        product_type=decision.order.product_type,
        quantity=decision.order.quantity,
        offer=decision.direct_offer,
        correlation_id=decision.order.correlation_id,
    )


def _created_event_details(slot: BatchSlot) -> dict:
    return {
        "offer_id": slot.offer_id,
        "target_quantity": slot.target_quantity,
        "supplier_unit_price": str(slot.supplier_unit_price),
        "matched_score": None if slot.matched_score is None else str(slot.matched_score),
    }


def _run(sql: str, params: list):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() if cursor.description else None


# --- PostgreSQL: one statement each, rows as one JSON parameter ---------------------------


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
    _run(
        f"""
        WITH new AS (
            SELECT * FROM json_to_recordset(%s::json) AS n(
                id uuid, product_type text, supplier_id bigint, offer_id bigint, target_quantity integer,
                current_quantity integer, styles jsonb, max_styles integer, supplier_unit_price numeric,
                matched_score numeric, details jsonb)
        ), created AS (
            INSERT INTO {ProductionBatch._meta.db_table}
                   (id, product_type, supplier_id, offer_id, batch_status, target_quantity, current_quantity,
                    styles, max_styles, supplier_unit_price, matched_score, window_closes_at, created_at,
                    updated_at)
            SELECT id, product_type, supplier_id, offer_id, %s, target_quantity, current_quantity,
                   styles, max_styles, supplier_unit_price, matched_score, %s, %s, %s
              FROM new
        )
        INSERT INTO {BatchEvent._meta.db_table}
               (batch_id, kind, from_status, to_status, fill_percent, correlation_id, details, created_at)
        SELECT id, %s, '', %s, 0, %s, details, %s FROM new
        """,
        [
            json.dumps(rows),
            ProductionBatch.Status.OPEN.value,
            now + settings.BATCH_WINDOW,
            now,
            now,
            BatchEvent.Kind.CREATED.value,
            ProductionBatch.Status.OPEN.value,
            get_correlation_id(),
            now,
        ],
    )


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
    table = ProductionBatch._meta.db_table
    _run(
        f"""
        UPDATE {table} AS b
           SET current_quantity = b.current_quantity + g.added,
               styles = coalesce(g.styles, b.styles),
               updated_at = %s
          FROM json_to_recordset(%s::json) AS g(id uuid, added integer, styles jsonb)
         WHERE b.id = g.id
        """,
        [now, json.dumps(rows)],
    )


def _move_orders_postgres(decisions: list[Decision], now: datetime) -> int:
    """Every claimed order's new state and the pooled ones' contributions, in one statement.

    Quantity and style_details of a contribution are copied from the locked order row
    itself. ``workflow_status = 'submitted'`` in the WHERE counts each row exactly once.
    """
    rows = [
        {
            "id": str(decision.order.id),
            "status": str(decision.status),
            "is_batch_order": decision.is_batch_order,
            "unit_price": None if decision.unit_price is None else str(decision.unit_price),
            "total_price": None if decision.total_price is None else str(decision.total_price),
            "rejection_reason": decision.rejection_reason,
            "batch_id": None if decision.slot is None else str(decision.slot.id),
        }
        for decision in decisions
    ]
    (moved,) = _run(
        f"""
        WITH decided AS (
            SELECT * FROM json_to_recordset(%s::json) AS d(
                id uuid, status text, is_batch_order boolean, unit_price numeric, total_price numeric,
                rejection_reason text, batch_id uuid)
        ), moved AS (
            UPDATE {Order._meta.db_table} AS o
               SET workflow_status = d.status, is_batch_order = d.is_batch_order, unit_price = d.unit_price,
                   total_price = d.total_price, rejection_reason = d.rejection_reason,
                   pooled_at = %s, updated_at = %s
              FROM decided AS d
             WHERE o.id = d.id AND o.workflow_status = %s
         RETURNING o.id, o.quantity, o.style_details, d.unit_price, d.batch_id
        ), contributed AS (
            INSERT INTO {BatchContribution._meta.db_table}
                   (batch_id, order_id, quantity_contributed, style_details, unit_price, committed_at)
            SELECT batch_id, id, quantity, style_details, unit_price, %s FROM moved WHERE batch_id IS NOT NULL
        )
        SELECT count(*) FROM moved
        """,
        [json.dumps(rows), now, now, Order.Status.SUBMITTED.value, now],
    )
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


def _grow_batches_portable(slots: list[BatchSlot], now: datetime) -> None:
    for slot in slots:
        changes = {"current_quantity": F("current_quantity") + (slot.quantity - slot.quantity_before)}
        if slot.styles != slot.styles_before:
            changes["styles"] = sorted(slot.styles)
        ProductionBatch.objects.filter(pk=slot.id).update(**changes, updated_at=now)


def _move_orders_portable(decisions: list[Decision], now: datetime) -> int:
    BatchContribution.objects.bulk_create(
        [
            BatchContribution(
                batch_id=decision.slot.id,
                order_id=decision.order.id,
                quantity_contributed=decision.order.quantity,
                style_details=decision.order.style_details,
                unit_price=decision.unit_price,
            )
            for decision in decisions
            if decision.slot is not None
        ]
    )
    orders = [
        Order(
            id=decision.order.id,
            workflow_status=decision.status,
            is_batch_order=decision.is_batch_order,
            unit_price=decision.unit_price,
            total_price=decision.total_price,
            rejection_reason=decision.rejection_reason,
            pooled_at=now,
            updated_at=now,
        )
        for decision in decisions
    ]
    fields = ["workflow_status", "is_batch_order", "unit_price", "total_price", "rejection_reason"]
    return Order.objects.bulk_update(orders, [*fields, "pooled_at", "updated_at"])
