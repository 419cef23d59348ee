"""Pooling routes, in memory: where each claimed order goes and at what price.

Nothing here touches the database; ``claim`` loads the inputs under the locks and
``writes`` stores the outcome. Rules:

- quantity above ``ORDER_MAX_QUANTITY``, no offer, or more styles than any offer runs
  → rejected, with a reason;
- quantity reaching the best offer's MOQ → a direct order (its own supplier order);
- otherwise join the fullest compatible batch (same product type, styles within the
  batch's max_styles, quantity within its remaining room; never split), or open one
  with the best offer (target = MOQ).
"""

import bisect
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from batches.fill import fill_crossed
from orders.models import Order
from suppliers.matching import MatchedOffer, OfferBook
from suppliers.pricing import buyer_unit_price_from_supplier_price


def style_names(style_details) -> frozenset:
    if not isinstance(style_details, list):
        return frozenset()
    return frozenset(item["style"] for item in style_details if isinstance(item, dict) and item.get("style"))


@dataclass
class ClaimedOrder:
    id: uuid.UUID
    product_type: str
    quantity: int
    style_details: list
    styles: frozenset
    correlation_id: str = ""

    @property
    def style_count(self) -> int:
        # An order without named styles still runs as one style.
        return max(len(self.styles), 1)


@dataclass(eq=False)  # identity, not field equality: two empty new batches are still two
class BatchSlot:
    """A joinable batch while a claim fills it: a locked existing row, or a new one."""

    id: uuid.UUID
    product_type: str
    offer_id: int
    supplier_id: int
    target_quantity: int
    max_styles: int
    supplier_unit_price: Decimal
    quantity: int
    styles: set
    is_new: bool
    matched_score: Decimal | None = None  # written with a new batch only
    quantity_before: int = 0
    styles_before: frozenset = frozenset()
    age: int = 0  # order of arrival in the SlotIndex: breaks ties towards the older batch

    @property
    def room(self) -> int:
        return self.target_quantity - self.quantity

    def holds_styles_of(self, order: ClaimedOrder) -> bool:
        return order.styles <= self.styles or len(self.styles | order.styles) <= self.max_styles

    @property
    def grown(self) -> bool:
        return self.quantity != self.quantity_before

    def crossed(self, percent: int) -> bool:
        """Whether this claim brought the batch from below ``percent`` full to at least it."""
        return fill_crossed(
            quantity_before=self.quantity_before,
            quantity_after=self.quantity,
            target_quantity=self.target_quantity,
            percent=percent,
        )


@dataclass
class OrderRoute:
    order: ClaimedOrder
    status: str
    unit_price: Decimal | None = None
    total_price: Decimal | None = None
    is_batch_order: bool = True
    rejection_reason: str = ""
    slot: BatchSlot | None = None
    direct_offer: MatchedOffer | None = None


@dataclass
class ClaimPlan:
    routes: list[OrderRoute] = field(default_factory=list)
    slots: list[BatchSlot] = field(default_factory=list)

    @property
    def grown_slots(self) -> list[BatchSlot]:
        return [slot for slot in self.slots if slot.grown]


class SlotIndex:
    """The joinable batches of one product type, for "the fullest one that fits" in ~O(log n).

    Kept per target quantity, sorted by (room, age): within one target the fullest
    batch is the one with the least room, so the first entry with room ≥ the order's
    quantity whose styles fit is the answer (older first among equals). A claim of a
    busy product type holds hundreds of near-full batches; scanning them all per order
    cost more than writing the order.
    """

    def __init__(self, slots: Iterable[BatchSlot] = ()):
        self._by_target: dict[int, list[tuple[int, int, BatchSlot]]] = {}
        self._age = 0
        self.slots: list[BatchSlot] = []
        for slot in slots:  # oldest first
            self.add(slot)

    def add(self, slot: BatchSlot) -> None:
        self._age += 1
        slot.age = self._age
        self.slots.append(slot)
        self._insert(slot)

    def fullest_fit(self, order: ClaimedOrder) -> BatchSlot | None:
        best = None
        probe = (order.quantity,)
        for entries in self._by_target.values():
            for index in range(bisect.bisect_left(entries, probe), len(entries)):
                slot = entries[index][2]
                if slot.holds_styles_of(order):
                    if best is None or (slot.quantity, -slot.age) > (best.quantity, -best.age):
                        best = slot
                    break
        return best

    def put(self, slot: BatchSlot, order: ClaimedOrder) -> None:
        entries = self._by_target[slot.target_quantity]
        del entries[bisect.bisect_left(entries, (slot.room, slot.age))]
        slot.quantity += order.quantity
        slot.styles |= order.styles
        self._insert(slot)

    def _insert(self, slot: BatchSlot) -> None:
        if slot.room > 0:
            bisect.insort(self._by_target.setdefault(slot.target_quantity, []), (slot.room, slot.age, slot))


class _Prices:
    """Buyer unit prices by (supplier price, style count): a claim prices thousands of
    orders at a handful of distinct combinations."""

    def __init__(self):
        self._cache: dict[tuple[Decimal, int], Decimal] = {}

    def unit(self, supplier_unit_price: Decimal, style_count: int) -> Decimal:
        key = (supplier_unit_price, style_count)
        price = self._cache.get(key)
        if price is None:
            price = buyer_unit_price_from_supplier_price(
                supplier_unit_price=supplier_unit_price, style_count=style_count
            )
            self._cache[key] = price
        return price


def route_orders(orders: list[ClaimedOrder], slots: SlotIndex, offers: OfferBook, plan: ClaimPlan) -> None:
    """Decide the orders of one product type, oldest first, into ``plan``."""
    prices = _Prices()
    for order in orders:
        plan.routes.append(_route(order, slots, offers, prices))
    plan.slots.extend(slots.slots)


def _route(order: ClaimedOrder, slots: SlotIndex, offers: OfferBook, prices: _Prices) -> OrderRoute:
    if order.quantity > settings.ORDER_MAX_QUANTITY:
        return _reject(order, f"Quantity {order.quantity} is above the limit of {settings.ORDER_MAX_QUANTITY}.")
    best = offers.best(product_type=order.product_type, style_count=order.style_count)
    if best is None:
        if offers.has_any(order.product_type):
            return _reject(order, f"No supplier of {order.product_type!r} runs {order.style_count} styles in a batch.")
        return _reject(order, f"No active supplier offer for {order.product_type!r}.")
    if order.quantity >= best.moq:
        unit_price = prices.unit(best.supplier_price_at(order.quantity), order.style_count)
        return OrderRoute(
            order=order,
            status=Order.Status.CONFIRMED,
            unit_price=unit_price,
            total_price=unit_price * order.quantity,
            is_batch_order=False,
            direct_offer=best,
        )
    slot = slots.fullest_fit(order)
    if slot is None:
        slot = _new_slot(best)
        slots.add(slot)
    slots.put(slot, order)
    unit_price = prices.unit(slot.supplier_unit_price, order.style_count)
    return OrderRoute(
        order=order,
        status=Order.Status.POOLED,
        unit_price=unit_price,
        total_price=unit_price * order.quantity,
        slot=slot,
    )


def _reject(order: ClaimedOrder, reason: str) -> OrderRoute:
    return OrderRoute(order=order, status=Order.Status.REJECTED, rejection_reason=reason)


def _new_slot(offer: MatchedOffer) -> BatchSlot:
    return BatchSlot(
        id=uuid.uuid4(),
        product_type=offer.product_type,
        offer_id=offer.offer_id,
        supplier_id=offer.supplier_id,
        target_quantity=offer.moq,
        max_styles=offer.max_styles,
        supplier_unit_price=offer.supplier_unit_price,
        quantity=0,
        styles=set(),
        is_new=True,
        matched_score=offer.performance_score,
    )
