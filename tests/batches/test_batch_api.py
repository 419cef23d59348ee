import uuid

import pytest

from batches.models import BatchEvent, ProductionBatch
from orders.models import Order, Refund
from suppliers.models import SupplierOrder
from tests.batches.factories import PooledOrderFactory, batch_filled_to, batch_in_review
from tests.factories import BatchContributionFactory

pytestmark = pytest.mark.django_db

Status = ProductionBatch.Status


def _with_order_of(buyer, batch):
    order = PooledOrderFactory(buyer=buyer, quantity=5, product_type=batch.product_type)
    BatchContributionFactory(batch=batch, order=order)
    return batch


def test_ops_see_every_batch_with_its_fill(api_client_for, olivia):
    # given
    batch_filled_to(7499, target=10000)
    batch_filled_to(30)

    # when
    response = api_client_for(olivia).get("/api/batches/")

    # then
    assert response.status_code == 200
    fills = sorted(row["fill_percent"] for row in response.json()["results"])
    assert fills == ["30.00", "74.99"]
    row = response.json()["results"][0]
    assert {"batch_status", "target_quantity", "current_quantity", "window_closes_at", "supplier"} <= row.keys()


def test_a_buyer_sees_only_the_batches_holding_their_orders(api_client_for, alice, bob):
    # given
    mine = _with_order_of(alice, batch_filled_to(40))
    _with_order_of(bob, batch_filled_to(40))

    # when
    response = api_client_for(alice).get("/api/batches/")

    # then
    assert [row["id"] for row in response.json()["results"]] == [str(mine.id)]


def test_a_buyer_gets_404_for_a_batch_without_their_orders(api_client_for, alice, bob):
    # given
    others = _with_order_of(bob, batch_filled_to(40))

    # when
    response = api_client_for(alice).get(f"/api/batches/{others.id}/")

    # then
    assert response.status_code == 404


def test_ops_can_filter_batches_by_status(api_client_for, olivia):
    # given
    in_review = batch_in_review(60)
    batch_filled_to(30)

    # when
    response = api_client_for(olivia).get("/api/batches/?status=admin_review")
    bad = api_client_for(olivia).get("/api/batches/?status=nonsense")

    # then
    assert [row["id"] for row in response.json()["results"]] == [str(in_review.id)]
    assert bad.status_code == 400
    assert "status" in bad.json()


def test_ops_approve_a_batch_in_review(api_client_for, olivia):
    # given
    batch = batch_in_review(60)

    # when
    response = api_client_for(olivia).post(f"/api/batches/{batch.id}/approve/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["batch_status"] == "confirmed"
    assert body["supplier_order_number"] == SupplierOrder.objects.get(batch=batch).order_number
    assert BatchEvent.objects.get(batch=batch).actor == olivia


def test_ops_cancel_a_batch_in_review(api_client_for, olivia):
    # given
    batch = batch_in_review(55, orders=2)

    # when
    response = api_client_for(olivia).post(f"/api/batches/{batch.id}/cancel/")

    # then
    assert response.status_code == 200
    assert response.json()["batch_status"] == "cancelled"
    assert Refund.objects.filter(order__contribution__batch=batch).count() == 2
    assert set(Order.objects.values_list("workflow_status", flat=True)) == {Order.Status.REFUNDED}


def test_ops_extend_a_batch_in_review(api_client_for, olivia):
    # given
    batch = batch_in_review(55)

    # when
    response = api_client_for(olivia).post(f"/api/batches/{batch.id}/extend/", {"hours": 12}, format="json")

    # then
    assert response.status_code == 200
    assert response.json()["batch_status"] == "open"
    assert BatchEvent.objects.get(batch=batch).details == {"hours": 12}


@pytest.mark.parametrize("payload", [{}, {"hours": 0}, {"hours": 721}, {"hours": "soon"}])
def test_an_extension_without_valid_hours_is_a_400_that_changes_nothing(api_client_for, olivia, payload):
    # given
    batch = batch_in_review(55)

    # when
    response = api_client_for(olivia).post(f"/api/batches/{batch.id}/extend/", payload, format="json")

    # then
    assert response.status_code == 400
    assert "hours" in response.json()
    batch.refresh_from_db()
    assert batch.batch_status == Status.ADMIN_REVIEW


@pytest.mark.parametrize("decision", ["approve", "cancel", "extend"])
def test_a_decision_on_a_batch_no_longer_in_review_is_a_409_with_a_clear_message(api_client_for, olivia, decision):
    # given
    batch = batch_filled_to(80, batch_status=Status.CONFIRMED)

    # when
    response = api_client_for(olivia).post(f"/api/batches/{batch.id}/{decision}/", {"hours": 5}, format="json")

    # then
    assert response.status_code == 409
    assert response.json()["batch_status"] == "confirmed"
    assert "no longer in admin review (it is confirmed)" in response.json()["detail"]
    assert not BatchEvent.objects.exists()


@pytest.mark.parametrize("decision", ["approve", "cancel", "extend"])
def test_a_buyer_cannot_decide(api_client_for, alice, decision):
    # given
    batch = _with_order_of(alice, batch_in_review(55))

    # when
    response = api_client_for(alice).post(f"/api/batches/{batch.id}/{decision}/", {"hours": 5}, format="json")

    # then
    assert response.status_code == 403
    batch.refresh_from_db()
    assert batch.batch_status == Status.ADMIN_REVIEW


def test_a_supplier_user_cannot_list_batches(api_client_for, sam):
    # when
    response = api_client_for(sam).get("/api/batches/")

    # then
    assert response.status_code == 403


def test_without_a_token_it_is_a_401(anon_client):
    # when
    response = anon_client.post(f"/api/batches/{uuid.uuid4()}/approve/")

    # then
    assert response.status_code == 401


def test_a_decision_on_an_unknown_batch_is_a_404(api_client_for, olivia):
    # when
    response = api_client_for(olivia).post(f"/api/batches/{uuid.uuid4()}/approve/")

    # then
    assert response.status_code == 404
