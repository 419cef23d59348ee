"""Pooling is requested once per accepted request, and only once the orders are committed."""

import pytest
from django.db import IntegrityError, connection, transaction

from orders.models import Order
from orders.services import order_submit, order_submit_bulk
from tests.orders.conftest import order_payload


@pytest.fixture
def pooling_sees(monkeypatch):
    """Replaces request_pooling with a probe of what a worker would see when it runs."""
    seen = []

    def probe():
        seen.append(
            {
                "in_transaction": connection.in_atomic_block,
                "submitted": Order.objects.filter(workflow_status=Order.Status.SUBMITTED).count(),
            }
        )

    monkeypatch.setattr("batches.pooling.tasks.request_pooling", probe)
    return seen


@pytest.mark.django_db(transaction=True)
def test_it_requests_pooling_once_the_order_has_committed(alice, api_client_for, hoodie_offer, pooling_sees):
    # when
    response = api_client_for(alice).post("/api/orders/", order_payload(), format="json")

    # then
    assert response.status_code == 202
    assert pooling_sees == [{"in_transaction": False, "submitted": 1}]


@pytest.mark.django_db(transaction=True)
def test_it_requests_pooling_once_per_bulk_after_commit(alice, api_client_for, hoodie_offer, pooling_sees):
    # when
    response = api_client_for(alice).post(
        "/api/orders/bulk/", {"orders": [order_payload() for _ in range(25)]}, format="json"
    )

    # then
    assert response.status_code == 202
    assert pooling_sees == [{"in_transaction": False, "submitted": 25}]


@pytest.mark.django_db(transaction=True)
def test_it_waits_for_the_callers_transaction_to_commit(alice, hoodie_offer, pooling_sees):
    # when: submitted inside a larger transaction
    with transaction.atomic():
        order_submit(buyer=alice, product_type="hoodie", quantity=5, style_details=[{"style": "classic"}])
        order_submit(buyer=alice, product_type="hoodie", quantity=6, style_details=[{"style": "classic"}])
        requested_before_commit = list(pooling_sees)

    # then
    assert requested_before_commit == []
    assert pooling_sees == [{"in_transaction": False, "submitted": 2}] * 2


@pytest.mark.django_db(transaction=True)
def test_it_requests_no_pooling_when_the_callers_transaction_rolls_back(alice, hoodie_offer, pooling_sees):
    # when
    with pytest.raises(RuntimeError), transaction.atomic():
        order_submit(buyer=alice, product_type="hoodie", quantity=5, style_details=[{"style": "classic"}])
        raise RuntimeError("the caller failed after submitting")

    # then
    assert pooling_sees == []
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_stores_no_order_of_a_bulk_and_requests_no_pooling_when_one_insert_fails(alice, hoodie_offer, pooling_sees):
    # given: the last order breaks a database constraint (the API would have refused it)
    orders = [
        {"product_type": "hoodie", "quantity": quantity, "style_details": [{"style": "a"}]} for quantity in (5, 0)
    ]

    # when
    with pytest.raises(IntegrityError):
        order_submit_bulk(buyer=alice, orders=orders)

    # then
    assert not Order.objects.exists()
    assert pooling_sees == []


def test_it_refuses_a_bulk_submission_nested_in_another_transaction(alice, hoodie_offer):
    # given: bulk submission is a durable entry point; nesting it would delay pooling unnoticed
    orders = [{"product_type": "hoodie", "quantity": 5, "style_details": [{"style": "a"}]}]

    # when / then
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        order_submit_bulk(buyer=alice, orders=orders)


@pytest.mark.django_db(transaction=True)
def test_it_requests_no_pooling_for_a_replayed_or_conflicting_key(alice, api_client_for, hoodie_offer, pooling_sees):
    # given
    client = api_client_for(alice)
    client.post("/api/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k1")

    # when
    replay = client.post("/api/orders/", order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    other_body = order_payload(quantity=1, style_details=[{"style": "classic"}])
    conflict = client.post("/api/orders/", other_body, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    # then
    assert (replay.status_code, conflict.status_code) == (200, 409)
    assert len(pooling_sees) == 1
