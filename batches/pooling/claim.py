"""The claim: one transaction that takes submitted orders, locks, decides and writes.

Locks: a product-type advisory lock, then the claimed order rows (SKIP LOCKED), then the
joinable batch rows; why and in which order: docs/pooling.md ("The claim and its locks").
"""

import hashlib
import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from batches.models import ProductionBatch
from batches.pooling.routing import BatchSlot, ClaimedOrder, ClaimPlan, SlotIndex, route_orders, style_names
from batches.pooling.writes import plan_write, request_orchestration
from orders.models import Order
from sleekbatch import sql
from suppliers.matching import OfferBook

logger = logging.getLogger(__name__)

# Orders per claim. A claim pays a fixed cost (about ten statements and a commit,
# ~10 ms) and a per-order cost (~0.15 ms); at 1,000 the fixed part is small, the
# transaction stays around 0.2 s, so a product type's lock is never held long and a
# killed worker redoes little. Tests set it lower to make claims race more often.
CLAIM_CHUNK = int(os.environ.get("SLEEKBATCH_POOLING_CLAIM_CHUNK", 1000))
# First key of pg_advisory_xact_lock(int, int): keeps pooling's product-type locks
# apart from any other advisory lock in the database.
PRODUCT_LOCK_NAMESPACE = 0x5B0011


def pooling_claim(*, limit: int | None = None, offers: OfferBook | None = None) -> int:
    """Pool one claim of the oldest submitted orders; returns how many it claimed (0: none claimable).

    Running it again, or concurrently, changes nothing already done: the claim sees only
    ``submitted`` rows, skips rows another claim holds, and contributions and direct
    supplier orders are one per order in the database.

    Batches the claim brings to the confirm threshold are handed to orchestration right
    after commit, in one message, so that confirmation does not wait for the next sweep.
    """
    limit = limit or CLAIM_CHUNK
    with transaction.atomic(durable=True):
        product_types = _lock_product_types(limit)
        claimed = _claim_submitted(limit, product_types) if product_types != [] else []
        if not claimed:
            return 0
        by_product_type: dict[str, list[ClaimedOrder]] = defaultdict(list)
        for order in claimed:
            by_product_type[order.product_type].append(order)
        offers = offers or OfferBook()
        offers.load(by_product_type)
        now = timezone.now()
        joinable = _lock_joinable_batches(by_product_type, now=now)
        plan = ClaimPlan()
        for product_type in sorted(by_product_type):
            route_orders(by_product_type[product_type], SlotIndex(joinable[product_type]), offers, plan)
        reached_confirm = plan_write(plan, now=now)
        transaction.on_commit(partial(request_orchestration, reached_confirm))
    return len(claimed)


@dataclass(frozen=True)
class DrainResult:
    orders: int
    claims: int
    budget_spent: bool


def pooling_drain(
    *, time_budget_seconds: float, limit: int | None = None, on_backlog: Callable[[], None] | None = None
) -> DrainResult:
    """Claim until a claim finds nothing or the time budget is spent.

    A claim finds nothing only when every submitted order it could see was pooled or
    held by another claim, whose drain goes on; so the last drain standing stops on an
    empty backlog. An order committed later has requested a drain of its own (see
    docs/pooling.md). After the first full claim ``on_backlog`` is called once, so that
    a second worker can join in on the product types this drain does not hold.

    Each claim hands the batches it brought to the confirm threshold to orchestration
    right after its commit, so that confirmation does not wait for the sweep. Deciding a batch
    writes about as much as pooling its orders did, so on a busy machine orchestration
    competes with pooling for the same workers; that work is owed either way.
    """
    limit = limit or CLAIM_CHUNK
    deadline = time.monotonic() + time_budget_seconds
    offers = OfferBook()  # offers are looked up once per product type for the whole drain
    total = claims = 0
    while True:
        claimed = pooling_claim(limit=limit, offers=offers)
        total += claimed
        claims += 1
        if claimed == limit and claims == 1 and on_backlog is not None:
            _call_for_help(on_backlog)
        budget_spent = claimed > 0 and time.monotonic() >= deadline
        if claimed == 0 or budget_spent:
            break
    if budget_spent:
        logger.info("pooling_drain_budget_spent", extra={"orders": total, "claims": claims})
    return DrainResult(orders=total, claims=claims, budget_spent=budget_spent)


def _call_for_help(on_backlog: Callable[[], None]) -> None:
    # Only a speed-up: if the broker cannot take the request now, this drain goes on alone.
    try:
        on_backlog()
    except Exception:
        logger.warning("pooling_backlog_request_failed", exc_info=True)


def _claim_submitted(limit: int, product_types: list[str] | None) -> list[ClaimedOrder]:
    submitted = Order.objects.filter(workflow_status=Order.Status.SUBMITTED)
    if product_types is not None:
        submitted = submitted.filter(product_type__in=product_types)
    rows = (
        submitted.select_for_update(skip_locked=True)
        .order_by("created_at")
        .values_list("id", "product_type", "quantity", "style_details", "correlation_id")[:limit]
    )
    return [
        ClaimedOrder(
            id=order_id,
            product_type=product_type,
            quantity=quantity,
            style_details=style_details,
            styles=style_names(style_details),
            correlation_id=correlation_id,
        )
        for order_id, product_type, quantity, style_details, correlation_id in rows
    ]


def product_lock_key(product_type: str) -> int:
    """A stable signed 32-bit key per product type (Python's hash() differs per process)."""
    digest = hashlib.blake2b(product_type.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def _lock_product_types(limit: int) -> list[str] | None:
    """Take pooling locks for the product types of the oldest submitted orders; the ones taken.

    The only place pooling takes these locks. A claim tries (without waiting) each
    product type among the oldest ``limit`` submitted orders, in key order, and keeps
    those it gets, so two drains split the product types between them instead of
    queueing on each other. Only when it gets none does it wait, for the oldest order's
    product type, holding no other pooling lock: a claim never waits while holding one,
    so no two claims can deadlock (two product types may even share a key).

    On SQLite: None (every product type), as the IMMEDIATE transaction holds the
    database's write lock from BEGIN and already serialises claims.
    """
    if connection.vendor != "postgresql":
        return None
    oldest = list(
        Order.objects.filter(workflow_status=Order.Status.SUBMITTED)
        .order_by("created_at")
        .values_list("product_type", flat=True)[:limit]
    )
    if not oldest:
        return []
    keys = {product_type: product_lock_key(product_type) for product_type in set(oldest)}
    locked = [
        product_type
        for product_type in sorted(keys, key=lambda name: (keys[name], name))
        if sql.advisory_xact_lock(PRODUCT_LOCK_NAMESPACE, keys[product_type], wait=False)
    ]
    if not locked:
        sql.advisory_xact_lock(PRODUCT_LOCK_NAMESPACE, keys[oldest[0]], wait=True)
        locked.append(oldest[0])
    return locked


def _lock_joinable_batches(by_product_type: dict, *, now: datetime) -> dict[str, list[BatchSlot]]:
    """Open batches with an open window and room for the smallest claimed order, locked, oldest first."""
    smallest = min(order.quantity for orders in by_product_type.values() for order in orders)
    rows = (
        ProductionBatch.objects.select_for_update()
        # The same expression as batch_open_room_idx, so the index skips batches without room.
        .alias(room=F("target_quantity") - F("current_quantity"))
        .filter(
            product_type__in=list(by_product_type),
            batch_status=ProductionBatch.Status.OPEN,
            window_closes_at__gt=now,
            room__gte=smallest,
        )
        .order_by("created_at", "id")
        .values_list(
            "id",
            "product_type",
            "offer_id",
            "supplier_id",
            "target_quantity",
            "current_quantity",
            "max_styles",
            "supplier_unit_price",
            "styles",
        )
    )
    joinable: dict[str, list[BatchSlot]] = defaultdict(list)
    for batch_id, product_type, offer_id, supplier_id, target, current, max_styles, price, styles in rows:
        joinable[product_type].append(
            BatchSlot(
                id=batch_id,
                product_type=product_type,
                offer_id=offer_id,
                supplier_id=supplier_id,
                target_quantity=target,
                max_styles=max_styles,
                supplier_unit_price=price,
                quantity=current,
                quantity_before=current,
                styles=set(styles or ()),
                styles_before=frozenset(styles or ()),
                is_new=False,
            )
        )
    return joinable
