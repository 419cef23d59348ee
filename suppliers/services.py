"""Writes for suppliers: direct supplier orders (an order big enough to run on its own), memberships."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from suppliers.matching import MatchedOffer
from suppliers.models import Supplier, SupplierMembership, SupplierOrder
from suppliers.numbers import new_supplier_order_number


@dataclass(frozen=True)
class DirectOrderLine:
    buyer_order_id: object  # orders.Order primary key (UUID)
    product_type: str
    quantity: int
    offer: MatchedOffer
    correlation_id: str = ""


def supplier_orders_create_direct(*, lines: list[DirectOrderLine]) -> list[SupplierOrder]:
    """One supplier order per direct buyer order, priced at the tier its own quantity reaches.

    Runs inside the caller's transaction (pooling's claim). ``buyer_order`` is one-to-one,
    so a buyer order can never get a second supplier order, however often this is retried.
    """
    today = timezone.localdate()
    supplier_orders = [
        SupplierOrder(
            order_number=new_supplier_order_number(),
            supplier_id=line.offer.supplier_id,
            buyer_order_id=line.buyer_order_id,
            product_type=line.product_type,
            quantity=line.quantity,
            supplier_price=line.offer.supplier_price_at(line.quantity),
            status=SupplierOrder.Status.PLACED,
            promised_date=today + timedelta(days=line.offer.lead_time_days),
            correlation_id=line.correlation_id,
        )
        for line in lines
    ]
    return SupplierOrder.objects.bulk_create(supplier_orders)


def supplier_membership_set(*, user, supplier: Supplier) -> SupplierMembership:
    """Make ``user`` act for ``supplier`` (a user belongs to one supplier; this moves it)."""
    membership, _ = SupplierMembership.objects.update_or_create(user=user, defaults={"supplier": supplier})
    return membership
