"""Writes for suppliers: supplier orders (for a confirmed batch or a direct order), memberships."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from suppliers.models import Supplier, SupplierMembership, SupplierOrder
from suppliers.numbers import new_supplier_order_number


@dataclass(frozen=True)
class SupplierOrderLine:
    """What to order from a supplier: for a pooled batch (``batch_id``) or one buyer's direct order
    (``buyer_order_id``), never both."""

    supplier_id: int
    product_type: str
    quantity: int
    supplier_price: Decimal  # the supplier's tier unit price at this quantity
    lead_time_days: int
    batch_id: object = None  # batches.ProductionBatch primary key (UUID)
    buyer_order_id: object = None  # orders.Order primary key (UUID)
    correlation_id: str = ""


def supplier_orders_place(*, lines: list[SupplierOrderLine], now: datetime | None = None) -> list[SupplierOrder]:
    """Place one supplier order per line, promised ``lead_time_days`` after today: the only place
    ``SupplierOrder`` rows are made.

    Runs inside the caller's transaction (a batch confirmation, pooling's claim). ``batch`` and
    ``buyer_order`` are one-to-one, so a batch or a buyer order can never get a second supplier
    order, however often the caller is retried.
    """
    today = timezone.localdate(now)
    return SupplierOrder.objects.bulk_create(
        SupplierOrder(
            order_number=new_supplier_order_number(),
            supplier_id=line.supplier_id,
            batch_id=line.batch_id,
            buyer_order_id=line.buyer_order_id,
            product_type=line.product_type,
            quantity=line.quantity,
            supplier_price=line.supplier_price,
            status=SupplierOrder.Status.PLACED,
            promised_date=today + timedelta(days=line.lead_time_days),
            correlation_id=line.correlation_id,
        )
        for line in lines
    )


def supplier_membership_set(*, user, supplier: Supplier) -> SupplierMembership:
    """Make ``user`` act for ``supplier`` (a user belongs to one supplier; this moves it)."""
    membership, _ = SupplierMembership.objects.update_or_create(user=user, defaults={"supplier": supplier})
    return membership
