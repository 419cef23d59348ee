"""What an order shows the people who read it: the buyer (for ops), the refund, the expected delivery."""

from datetime import date
from decimal import Decimal

import pytest

from batches.fill import fill_percent
from orders.models import Order, Refund
from suppliers.models import SupplierOrder
from tests.batches.factories import PooledOrderFactory, batch_filled_to
from tests.factories import BatchContributionFactory

pytestmark = pytest.mark.django_db


def test_ops_see_the_buyer_of_each_order(api_client_for, olivia, alice):
    PooledOrderFactory(buyer=alice)
    response = api_client_for(olivia).get("/api/orders/")
    assert [row["buyer"] for row in response.json()["results"]] == ["alice"]


def test_a_refunded_order_shows_the_refund_amount_and_reason(api_client_for, alice):
    # given
    order = PooledOrderFactory(buyer=alice, quantity=10, workflow_status=Order.Status.REFUNDED)
    Refund.objects.create(order=order, amount=order.total_price, reason="Batch cancelled: below 50% at close")

    # when
    body = api_client_for(alice).get(f"/api/orders/{order.id}/").json()

    # then
    assert body["refund"]["amount"] == "115.00"
    assert body["refund"]["reason"] == "Batch cancelled: below 50% at close"


def test_a_confirmed_order_shows_its_supplier_orders_expected_date(api_client_for, alice):
    # given
    batch = batch_filled_to(80, batch_status="confirmed")
    order = PooledOrderFactory(buyer=alice, workflow_status=Order.Status.CONFIRMED)
    BatchContributionFactory(batch=batch, order=order)
    SupplierOrder.objects.create(
        order_number="SO-1",
        supplier=batch.supplier,
        batch=batch,
        product_type=batch.product_type,
        quantity=80,
        supplier_price=Decimal("10.00"),
        promised_date=date(2027, 1, 15),
    )

    # when
    body = api_client_for(alice).get(f"/api/orders/{order.id}/").json()

    # then
    assert body["expected_delivery"] == "2027-01-15"
    assert body["refund"] is None


def test_a_new_order_has_no_refund_and_no_date_yet(api_client_for, alice, hoodie_offer):
    response = api_client_for(alice).post(
        "/api/orders/", {"product_type": "hoodie", "quantity": 12, "style_details": [{"style": "a"}]}, format="json"
    )
    assert response.status_code == 202
    assert (response.json()["refund"], response.json()["expected_delivery"]) == (None, None)
    assert response.json()["buyer"] == "alice"


@pytest.mark.parametrize(("current", "target", "shown"), [(10, 150, "6.67"), (1, 3, "33.33"), (2, 3, "66.67")])
def test_fill_percentages_are_rounded_not_truncated(current, target, shown):
    assert str(fill_percent(current_quantity=current, target_quantity=target)) == shown
