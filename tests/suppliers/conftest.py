from datetime import timedelta

import pytest
from django.utils import timezone

from batches.state import batches_confirm
from orders.models import Order
from sleekbatch.roles import SUPPLIER, assign_role
from suppliers.models import SupplierOrder
from suppliers.services import supplier_membership_set
from tests.batches.factories import batch_filled_to
from tests.factories import OrderFactory, SupplierFactory, SupplierOfferFactory, UserFactory


@pytest.fixture
def dhaka(db):
    return SupplierFactory(code="dhaka-knits", name="Dhaka Knits")


@pytest.fixture
def porto(db):
    return SupplierFactory(code="porto-textil", name="Porto Têxtil")


def _supplier_user(username, supplier):
    user = UserFactory(username=username)
    assign_role(user, SUPPLIER)
    supplier_membership_set(user=user, supplier=supplier)
    return user


@pytest.fixture
def sally(dhaka):
    """Dhaka Knits' user."""
    return _supplier_user("sally", dhaka)


@pytest.fixture
def pete(porto):
    """Porto Têxtil's user."""
    return _supplier_user("pete", porto)


def placed_supplier_order(supplier, *, quantity: int = 80, orders: int = 2, lead_time_days: int = 14) -> SupplierOrder:
    """A batch of ``supplier`` confirmed the way orchestration does it: supplier order placed, orders confirmed."""
    offer = SupplierOfferFactory(supplier=supplier, product_type=f"p{SupplierOrder.objects.count()}", moq=100)
    offer.lead_time_days = lead_time_days
    offer.save()
    batch = batch_filled_to(quantity, target=100, orders=orders, offer=offer)
    batches_confirm(batch_ids=[batch.id])
    assert Order.objects.filter(contribution__batch=batch, workflow_status=Order.Status.CONFIRMED).count() == orders
    return SupplierOrder.objects.get(batch=batch)


def backdate(supplier_order: SupplierOrder, *, days: float) -> SupplierOrder:
    """Pretend the supplier order was placed ``days`` ago (created_at is set on insert)."""
    SupplierOrder.objects.filter(id=supplier_order.id).update(created_at=timezone.now() - timedelta(days=days))
    supplier_order.refresh_from_db()
    return supplier_order


def delivered_order(
    supplier,
    *,
    delivered_at=None,
    quantity: int = 100,
    delivered_units: int = 100,
    defective_units: int = 0,
    days_late: int = 0,
    lead_time_days: float = 14,
    acknowledge_hours: float = 10,
) -> SupplierOrder:
    """A delivered supplier order with its delivery facts as the lifecycle records them."""
    delivered_at = delivered_at or timezone.now() - timedelta(days=1)
    placed_at = delivered_at - timedelta(days=lead_time_days)
    return SupplierOrder.objects.create(
        order_number=f"SO-TEST-{SupplierOrder.objects.count() + 1}",
        supplier=supplier,
        buyer_order=OrderFactory(quantity=quantity, workflow_status=Order.Status.DELIVERED, is_batch_order=False),
        product_type="hoodie",
        quantity=quantity,
        supplier_price="9.00",
        status=SupplierOrder.Status.DELIVERED,
        promised_date=timezone.localdate(delivered_at) - timedelta(days=days_late),
        acknowledged_at=placed_at + timedelta(hours=acknowledge_hours),
        delivered_at=delivered_at,
        delivered_units=delivered_units,
        defective_units=defective_units,
        acknowledge_hours=acknowledge_hours,
        lead_time_days=lead_time_days,
        days_late=days_late,
    )
