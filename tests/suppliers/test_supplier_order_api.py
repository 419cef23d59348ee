"""The supplier orders API: scoping, the lifecycle over HTTP, bad data, out-of-order moves."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Order
from sleekbatch.roles import BUYER, assign_role
from suppliers.models import SupplierOrder, SupplierOrderEvent
from tests.suppliers.conftest import backdate, placed_supplier_order

pytestmark = pytest.mark.django_db

Status = SupplierOrder.Status


def _post(client, supplier_order, action, body=None):
    return client.post(f"/api/supplier-orders/{supplier_order.id}/{action}/", body or {}, format="json")


def _shipped(client, supplier_order):
    assert _post(client, supplier_order, "acknowledge").status_code == 200
    assert _post(client, supplier_order, "ship").status_code == 200
    supplier_order.refresh_from_db()
    return supplier_order


def test_a_supplier_user_lists_only_their_own_suppliers_orders(api_client_for, sally, dhaka, porto):
    # given
    mine = placed_supplier_order(dhaka)
    placed_supplier_order(porto)

    # when
    response = api_client_for(sally).get("/api/supplier-orders/")

    # then
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(mine.id)]
    assert response.json()["results"][0]["supplier"] == "dhaka-knits"


def test_ops_list_every_supplier_order_and_can_filter_by_status(api_client_for, olivia, dhaka, porto):
    # given
    placed_supplier_order(dhaka)
    cancelled = placed_supplier_order(porto)
    SupplierOrder.objects.filter(id=cancelled.id).update(status=Status.CANCELLED)

    # when
    everything = api_client_for(olivia).get("/api/supplier-orders/")
    only_cancelled = api_client_for(olivia).get("/api/supplier-orders/?status=cancelled")
    bad_filter = api_client_for(olivia).get("/api/supplier-orders/?status=lost")

    # then
    assert len(everything.json()["results"]) == 2
    assert [row["id"] for row in only_cancelled.json()["results"]] == [str(cancelled.id)]
    assert bad_filter.status_code == 400


@pytest.mark.parametrize("action", ["", "acknowledge/", "ship/", "deliver/"])
def test_another_suppliers_order_is_a_404_and_stays_as_it_was(api_client_for, sally, porto, action):
    # given
    theirs = placed_supplier_order(porto)
    client = api_client_for(sally)

    # when
    if action:
        response = client.post(f"/api/supplier-orders/{theirs.id}/{action}", {"delivered_units": 80}, format="json")
    else:
        response = client.get(f"/api/supplier-orders/{theirs.id}/")

    # then
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.PLACED
    assert not SupplierOrderEvent.objects.exists()


def test_buyers_and_anonymous_callers_are_kept_out(api_client_for, anon_client, alice):
    assert api_client_for(alice).get("/api/supplier-orders/").status_code == 403
    assert anon_client.get("/api/supplier-orders/").status_code == 401


def test_a_supplier_user_without_a_membership_sees_nothing(api_client_for, sam, dhaka):
    # given
    placed_supplier_order(dhaka)

    # when
    response = api_client_for(sam).get("/api/supplier-orders/")

    # then
    assert response.json()["results"] == []


def test_delivery_moves_the_batchs_orders_to_delivered_and_the_buyer_sees_it(api_client_for, sally, dhaka):
    # given
    supplier_order = _shipped(api_client_for(sally), placed_supplier_order(dhaka, quantity=80, orders=2))
    buyer_order = Order.objects.filter(contribution__batch_id=supplier_order.batch_id).first()
    assign_role(buyer_order.buyer, BUYER)

    # when
    response = _post(api_client_for(sally), supplier_order, "deliver", {"delivered_units": 78, "defective_units": 2})

    # then
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "delivered"
    assert response.json()["delivered_units"] == 78
    assert set(
        Order.objects.filter(contribution__batch_id=supplier_order.batch_id).values_list("workflow_status", flat=True)
    ) == {Order.Status.DELIVERED}
    seen_by_buyer = api_client_for(buyer_order.buyer).get(f"/api/orders/{buyer_order.id}/")
    assert seen_by_buyer.json()["workflow_status"] == "delivered"


def test_each_move_records_who_made_it_and_the_request_id(api_client_for, sally, dhaka):
    # given
    supplier_order = placed_supplier_order(dhaka)

    # when
    api_client_for(sally).post(
        f"/api/supplier-orders/{supplier_order.id}/acknowledge/", {}, format="json", HTTP_X_REQUEST_ID="req-ack-1"
    )

    # then
    event = SupplierOrderEvent.objects.get(supplier_order=supplier_order)
    assert (event.from_status, event.to_status, event.actor, event.correlation_id) == (
        "placed",
        "acknowledged",
        sally,
        "req-ack-1",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"delivered_units": -1}, "delivered_units"),
        ({"delivered_units": 80, "defective_units": -3}, "defective_units"),
        ({"delivered_units": 80, "defective_units": 81}, "defective_units"),
        ({"delivered_units": 800}, "delivered_units"),  # far from the 80 ordered: a typo
        ({"delivered_units": 30}, "delivered_units"),
        ({"delivered_units": "80"}, "delivered_units"),
        ({"defective_units": 0}, "delivered_units"),
        ({"delivered_units": 80, "delivered_unit": 80}, "delivered_unit"),
        ({"delivered_units": 80, "delivered_at": "yesterday-ish"}, "delivered_at"),
        ("future", "delivered_at"),
        ("before placed", "delivered_at"),
    ],
)
def test_impossible_delivery_data_is_a_400_that_stores_nothing(api_client_for, sally, dhaka, body, field):
    # given
    supplier_order = _shipped(api_client_for(sally), backdate(placed_supplier_order(dhaka, quantity=80), days=10))
    if body == "future":
        body = {"delivered_units": 80, "delivered_at": (timezone.now() + timedelta(hours=2)).isoformat()}
    elif body == "before placed":
        body = {"delivered_units": 80, "delivered_at": (timezone.now() - timedelta(days=11)).isoformat()}
    events_before = SupplierOrderEvent.objects.count()

    # when
    response = _post(api_client_for(sally), supplier_order, "deliver", body)

    # then
    assert response.status_code == 400
    assert field in response.json()
    supplier_order.refresh_from_db()
    assert supplier_order.status == Status.SHIPPED
    assert supplier_order.delivered_at is None and supplier_order.delivered_units is None
    assert SupplierOrderEvent.objects.count() == events_before
    assert not Order.objects.filter(workflow_status=Order.Status.DELIVERED).exists()


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.PLACED, "ship"),
        (Status.PLACED, "deliver"),
        (Status.ACKNOWLEDGED, "acknowledge"),
        (Status.ACKNOWLEDGED, "deliver"),
        (Status.SHIPPED, "cancel"),
        (Status.DELIVERED, "deliver"),
        (Status.DELIVERED, "cancel"),
        (Status.CANCELLED, "acknowledge"),
    ],
)
def test_a_move_out_of_order_or_out_of_a_terminal_state_is_a_409_with_the_current_status(
    api_client_for, olivia, dhaka, status, action
):
    # given
    supplier_order = placed_supplier_order(dhaka)
    SupplierOrder.objects.filter(id=supplier_order.id).update(status=status)

    # when
    body = {"delivered_units": 80} if action == "deliver" else {}
    response = _post(api_client_for(olivia), supplier_order, action, body)

    # then
    assert response.status_code == 409
    assert response.json()["status"] == status
    assert not SupplierOrderEvent.objects.exists()


def test_acknowledging_needs_a_promised_date_when_none_is_set(api_client_for, sally, dhaka):
    # given
    supplier_order = placed_supplier_order(dhaka)
    SupplierOrder.objects.filter(id=supplier_order.id).update(promised_date=None)
    client = api_client_for(sally)

    # when
    without = _post(client, supplier_order, "acknowledge")
    promised = (timezone.localdate() + timedelta(days=20)).isoformat()
    with_date = _post(client, supplier_order, "acknowledge", {"promised_date": promised})

    # then
    assert without.status_code == 400 and "promised_date" in without.json()
    assert with_date.status_code == 200
    assert with_date.json()["promised_date"] == promised
    assert with_date.json()["status"] == "acknowledged"


def test_only_ops_cancel(api_client_for, sally, olivia, dhaka):
    # given
    supplier_order = placed_supplier_order(dhaka)

    # when
    by_supplier = _post(api_client_for(sally), supplier_order, "cancel")
    by_ops = _post(api_client_for(olivia), supplier_order, "cancel", {"reason": "buyer withdrew"})

    # then
    assert by_supplier.status_code == 403
    assert by_ops.status_code == 200 and by_ops.json()["status"] == "cancelled"
    assert SupplierOrderEvent.objects.get(supplier_order=supplier_order).details == {"reason": "buyer withdrew"}
