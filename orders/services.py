"""Writes for order intake: submitting one order (idempotently) or a bulk of them.

Input arrives validated (orders.api.serializers). One order is one INSERT, a
bulk is one transaction; either way ``orders_submitted`` is sent once, after commit
(pooling listens to it). A receiver that fails then is only logged: the orders are
stored, so the answer is 202, and the workers' pooling watchdog finds them
(docs/reliability.md).
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from orders.models import BulkSubmission, Order
from orders.selectors import bulk_submission_get, order_get_by_idempotency_key, orders_get_in_order
from orders.signals import orders_submitted
from sleekbatch import sql

logger = logging.getLogger(__name__)


class StyleDetail(TypedDict, total=False):
    style: str
    color: str
    sizes: dict[str, int]


class OrderInput(TypedDict):
    product_type: str
    quantity: int
    style_details: list[StyleDetail]


class IdempotencyConflict(Exception):
    """The idempotency key was already used by this buyer for a different request body."""

    def __init__(self, idempotency_key: str, existing_order: Order | None = None):
        self.idempotency_key = idempotency_key
        self.existing_order = existing_order
        super().__init__(
            f"Idempotency-Key {idempotency_key!r} was already used for a different request; "
            "use a new key for a new order."
        )


@dataclass(frozen=True)
class OrderSubmission:
    order: Order
    # False when an earlier request with the same idempotency key created the order.
    created: bool


@dataclass(frozen=True)
class BulkOrderSubmission:
    orders: list[Order]
    # False when an earlier request with the same idempotency key stored these orders.
    created: bool


def order_request_fingerprint(body: Any) -> str:
    """SHA-256 of the canonical JSON of a parsed request body: key order and spacing do not matter."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def order_submit(
    *,
    buyer,
    product_type: str,
    quantity: int,
    style_details: list[StyleDetail],
    idempotency_key: str | None = None,
    request_fingerprint: str = "",
    correlation_id: str = "",
) -> OrderSubmission:
    """Store a submitted order and ask for pooling once it has committed.

    With an idempotency key the insert itself is the check: the unique
    constraint (buyer, key) turns a replay, or a concurrent twin request, into
    an IntegrityError, after which the stored order is returned if the body is
    the same and IdempotencyConflict is raised if not. The common case is one
    INSERT and no SELECT.
    """
    order = Order(
        buyer=buyer,
        product_type=product_type,
        quantity=quantity,
        style_details=style_details,
        idempotency_key=idempotency_key,
        request_fingerprint=request_fingerprint if idempotency_key else "",
        correlation_id=correlation_id,
    )
    try:
        _insert_alone(order)
    except IntegrityError:
        if idempotency_key is None:
            raise
        # A twin request stored the key first (just now, or long ago); our INSERT left nothing behind.
        existing = order_get_by_idempotency_key(buyer=buyer, idempotency_key=idempotency_key)
        if existing is None:
            raise
        if existing.request_fingerprint != request_fingerprint:
            raise IdempotencyConflict(idempotency_key, existing) from None
        return OrderSubmission(order=existing, created=False)
    order.contribution_batch_id = None  # a new order has no batch; spares the serializer a query
    return OrderSubmission(order=order, created=True)


def _insert_alone(order: Order) -> None:
    if transaction.get_connection().in_atomic_block:
        # In a caller's (or a test's) transaction: a savepoint keeps a duplicate
        # key from aborting it, and pooling waits for the caller's commit.
        with transaction.atomic():
            sql.insert_row(order)
    else:
        # One INSERT is atomic on its own. In autocommit it commits by itself;
        # BEGIN and COMMIT around it would add two round trips to the busiest
        # request of the system.
        sql.insert_row(order)
    # Runs now if the INSERT has committed, else when the caller's transaction does.
    transaction.on_commit(_announce_submitted)


def _announce_submitted() -> None:
    """Send ``orders_submitted``; never fails the request, whose orders are committed by now."""
    try:
        orders_submitted.send(sender=Order)
    except Exception:
        # The broker or the trigger's Redis is down. Not an error for anyone to act on: the
        # orders stay submitted until the workers' pooling watchdog requests a drain for them.
        # (send_robust would log each failure at ERROR level, and so mail the admins.)
        logger.warning("orders.submitted_announcement_failed", exc_info=True)


def order_submit_bulk(
    *,
    buyer,
    orders: list[OrderInput],
    correlation_id: str = "",
    idempotency_key: str | None = None,
    request_fingerprint: str = "",
) -> BulkOrderSubmission:
    """Store all the orders in one transaction (one multi-row INSERT), or none of them.

    With an idempotency key the bulk is one unit: its BulkSubmission row is inserted
    first in the same transaction, so a replay (or a concurrent twin, which waits on
    the unique key until the first commits) stores nothing and gets the first bulk's
    orders back, or IdempotencyConflict when its body differs.
    """
    try:
        return _submit_bulk(buyer, orders, correlation_id, idempotency_key, request_fingerprint)
    except IntegrityError:
        if idempotency_key is None:
            raise
        earlier = bulk_submission_get(buyer=buyer, idempotency_key=idempotency_key)
        if earlier is None:
            raise
        if earlier.request_fingerprint != request_fingerprint:
            raise IdempotencyConflict(idempotency_key) from None
        return BulkOrderSubmission(orders=orders_get_in_order(earlier.order_ids), created=False)


def _submit_bulk(buyer, orders, correlation_id, idempotency_key, request_fingerprint) -> BulkOrderSubmission:
    new_orders = [
        Order(
            buyer=buyer,
            product_type=order["product_type"],
            quantity=order["quantity"],
            style_details=order["style_details"],
            correlation_id=correlation_id,
        )
        for order in orders
    ]
    with transaction.atomic(durable=True):
        if idempotency_key is not None:
            BulkSubmission.objects.create(
                buyer=buyer,
                idempotency_key=idempotency_key,
                request_fingerprint=request_fingerprint,
                order_ids=[str(order.id) for order in new_orders],
            )
        Order.objects.bulk_create(new_orders)
        # One announcement for the whole bulk: pooling claims submitted orders in bulk.
        transaction.on_commit(_announce_submitted)
    for order in new_orders:
        order.contribution_batch_id = None
    return BulkOrderSubmission(orders=new_orders, created=True)


def orders_mark_delivered(*, orders: QuerySet, now: datetime) -> int:
    """Confirmed orders whose goods arrived → ``delivered`` (compare-and-set on the status)."""
    return orders.filter(workflow_status=Order.Status.CONFIRMED).update(
        workflow_status=Order.Status.DELIVERED, updated_at=now
    )
