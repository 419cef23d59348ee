"""Batches in a given state, with the pooled orders that fill them."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from batches.models import ProductionBatch
from orders.models import Order
from tests.factories import BatchContributionFactory, OrderFactory, ProductionBatchFactory

UNIT_PRICE = Decimal("11.50")


class PooledOrderFactory(OrderFactory):
    workflow_status = Order.Status.POOLED
    unit_price = UNIT_PRICE
    total_price = factory.LazyAttribute(lambda o: (UNIT_PRICE * o.quantity).quantize(Decimal("0.01")))


def batch_filled_to(
    current: int,
    *,
    target: int = 100,
    window_closed: bool = False,
    orders: int = 2,
    batch_status: str = ProductionBatch.Status.OPEN,
    **batch_fields,
) -> ProductionBatch:
    """A batch holding ``current`` of ``target`` units, split over ``orders`` pooled orders."""
    now = timezone.now()
    window = now - timedelta(minutes=5) if window_closed else now + timedelta(hours=24)
    batch = ProductionBatchFactory(
        target_quantity=target,
        current_quantity=current,
        window_closes_at=window,
        batch_status=batch_status,
        offer__moq=target,
        **batch_fields,
    )
    count = min(orders, current)
    for index in range(count):
        quantity = current // count + (1 if index < current % count else 0)
        order = PooledOrderFactory(quantity=quantity, product_type=batch.product_type)
        BatchContributionFactory(batch=batch, order=order, unit_price=UNIT_PRICE)
    return batch


def batch_in_review(current: int = 60, *, target: int = 100, orders: int = 2, **batch_fields) -> ProductionBatch:
    return batch_filled_to(
        current,
        target=target,
        window_closed=True,
        orders=orders,
        batch_status=ProductionBatch.Status.ADMIN_REVIEW,
        review_started_at=timezone.now() - timedelta(hours=3),
        **batch_fields,
    )
