from datetime import timedelta

import pytest
from django.utils import timezone

from batches.state import batches_confirm
from orders.models import Order
from sleekbatch.roles import SUPPLIER, assign_role
from suppliers.models import SupplierOrder
from suppliers.services import supplier_membership_set
from tests.batches.factories import batch_filled_to
from tests.factories import SupplierFactory, SupplierOfferFactory, UserFactory


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
