"""The claim: one transaction that takes submitted orders, locks, decides and writes.

Why a lock per product type on top of the batch row locks: row locks only protect rows
that exist. With no joinable batch left, two claims of the same product type would both
find nothing and both open a batch where one would do (fragmentation). A transaction-
level advisory lock per product type covers that case, needs no lock table and is
released at commit or rollback, so a killed worker leaves none behind. The joinable
batch rows are still locked FOR UPDATE, so that an orchestration transition
(``UPDATE … WHERE batch_status = 'open'``) cannot slip between reading a batch as open
and adding to it.

Lock order, the same in every claim: the claimed order rows (SKIP LOCKED: never waits),
then the product-type locks sorted by key, then the batch rows. Orchestration locks
batch rows and then the orders of those batches, which are never ``submitted``; so no
cycle. On SQLite ``select_for_update`` is a no-op and the IMMEDIATE transaction holds
the database's write lock from BEGIN, which serialises claims.
"""

import hashlib
import logging
import os
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from batches.models import ProductionBatch
from batches.pooling.routing import BatchSlot, ClaimedOrder, ClaimPlan, SlotIndex, route_orders, style_names
from batches.pooling.writes import plan_write
from orders.models import Order
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


def orders_pool_submitted(*, limit: int = CLAIM_CHUNK, offers: OfferBook | None = None) -> int:
    """Pool one claim of the oldest submitted orders; returns how many it claimed (0: none left).

    Running it again, or concurrently, changes nothing already done: the claim sees only
    ``submitted`` rows, skips rows another claim holds, and contributions and direct
    supplier orders are one per order in the database.
    """
    with transaction.atomic(durable=True):
        claimed = _claim_submitted(limit)
        if not claimed:
            return 0
        by_product_type: dict[str, list[ClaimedOrder]] = defaultdict(list)
        for order in claimed:
            by_product_type[order.product_type].append(order)
        offers = offers or OfferBook()
        offers.load(by_product_type)
        _lock_product_types(by_product_type)
        now = timezone.now()
        joinable = _lock_joinable_batches(by_product_type, now=now)
        plan = ClaimPlan()
        for product_type in sorted(by_product_type):
            route_orders(by_product_type[product_type], SlotIndex(joinable[product_type]), offers, plan)
        plan_write(plan, now=now)
    return len(claimed)


@dataclass(frozen=True)
class DrainResult:
    orders: int
    claims: int
    budget_spent: bool


def orders_drain_submitted(*, time_budget_seconds: float, limit: int | None = None) -> DrainResult:
    """Claim until no submitted order is left or the time budget is spent.

    A short claim (fewer than ``limit``) means nothing else was claimable then; an order
    committed later has requested a drain of its own (see orders/tasks.py).
    """
    limit = limit or CLAIM_CHUNK
    deadline = time.monotonic() + time_budget_seconds
    offers = OfferBook()  # offers are looked up once per product type for the whole drain
    total = claims = 0
    while True:
        claimed = orders_pool_submitted(limit=limit, offers=offers)
        total += claimed
        claims += 1
        if claimed < limit:
            return DrainResult(orders=total, claims=claims, budget_spent=False)
        if time.monotonic() >= deadline:
            logger.info("pooling_drain_budget_spent", extra={"orders": total, "claims": claims})
            return DrainResult(orders=total, claims=claims, budget_spent=True)


def submitted_orders_waiting(*, older_than: timedelta) -> bool:
    """Whether an order has been submitted for longer than ``older_than`` (the recovery check)."""
    return Order.objects.filter(
        workflow_status=Order.Status.SUBMITTED, created_at__lt=timezone.now() - older_than
    ).exists()


def _claim_submitted(limit: int) -> list[ClaimedOrder]:
    rows = (
        Order.objects.select_for_update(skip_locked=True)
        .filter(workflow_status=Order.Status.SUBMITTED)
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


def _lock_product_types(product_types) -> None:
    """Take the pooling lock of every product type in the claim: here only, sorted by key.

    Sorted by key rather than by name: two product types may share a key, and only one
    global order of the keys themselves rules out a deadlock between two claims.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted({product_lock_key(product_type) for product_type in product_types}):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [PRODUCT_LOCK_NAMESPACE, key])


def _lock_joinable_batches(by_product_type: dict, *, now: datetime) -> dict[str, list[BatchSlot]]:
    """Open batches with an open window and room for the smallest claimed order, locked, oldest first."""
    smallest = min(order.quantity for orders in by_product_type.values() for order in orders)
    rows = (
        ProductionBatch.objects.select_for_update()
        .filter(
            product_type__in=list(by_product_type),
            batch_status=ProductionBatch.Status.OPEN,
            window_closes_at__gt=now,
            current_quantity__lte=F("target_quantity") - smallest,
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
