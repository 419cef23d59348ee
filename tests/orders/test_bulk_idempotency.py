"""A bulk submitted with an Idempotency-Key is replayed or refused as a unit."""

import threading

import pytest
from django.db import connection

from orders.models import BulkSubmission, Order
from tests.conftest import requires_postgres
from tests.orders.conftest import order_payload

URL = "/api/orders/bulk/"


def bulk(count: int, **overrides) -> dict:
    return {"orders": [order_payload(**overrides) for _ in range(count)]}


def test_a_replayed_bulk_returns_the_first_orders_and_stores_none(
    alice, api_client_for, hoodie_offer, pooling_requests, django_capture_on_commit_callbacks
):
    # given
    client = api_client_for(alice)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(URL, bulk(3), format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")

    # when: the client timed out and sends the same bulk again
    with django_capture_on_commit_callbacks(execute=True):
        replay = client.post(URL, bulk(3), format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")

    # then
    assert (first.status_code, replay.status_code) == (202, 200)
    assert [o["id"] for o in replay.json()["orders"]] == [o["id"] for o in first.json()["orders"]]
    assert Order.objects.count() == 3
    assert len(pooling_requests) == 1


def test_a_reused_key_with_another_body_is_refused_and_stores_nothing(alice, api_client_for, hoodie_offer):
    # given
    client = api_client_for(alice)
    client.post(URL, bulk(3), format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")

    # when
    response = client.post(URL, bulk(4), format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")

    # then
    assert response.status_code == 409
    assert "bulk-1" in response.json()["detail"]
    assert Order.objects.count() == 3


def test_keys_are_per_buyer(alice, bob, api_client_for, hoodie_offer):
    # when
    responses = [
        api_client_for(user).post(URL, bulk(2), format="json", HTTP_IDEMPOTENCY_KEY="same") for user in (alice, bob)
    ]

    # then
    assert [r.status_code for r in responses] == [202, 202]
    assert Order.objects.filter(buyer=alice).count() == Order.objects.filter(buyer=bob).count() == 2


def test_an_invalid_bulk_stores_no_key(alice, api_client_for, hoodie_offer):
    # given: a first try that was refused
    client = api_client_for(alice)
    refused = client.post(URL, bulk(2, quantity=0), format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")

    # when: the corrected bulk reuses the key
    accepted = client.post(URL, bulk(2), format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")

    # then
    assert (refused.status_code, accepted.status_code) == (400, 202)
    assert Order.objects.count() == 2


def test_a_replay_after_its_product_was_withdrawn_gets_its_orders(alice, api_client_for, hoodie_offer):
    # given
    client = api_client_for(alice)
    first = client.post(URL, bulk(2), format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")
    hoodie_offer.is_active = False
    hoodie_offer.save()

    # when
    replay = client.post(URL, bulk(2), format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")

    # then
    assert replay.status_code == 200
    assert replay.json() == first.json() | {"orders": replay.json()["orders"]}
    assert [o["id"] for o in replay.json()["orders"]] == [o["id"] for o in first.json()["orders"]]


@pytest.mark.parametrize("key", ["k" * 256, "  "], ids=["longer than 255", "blank"])
def test_an_unusable_key_is_refused(key, alice, api_client_for, hoodie_offer):
    response = api_client_for(alice).post(URL, bulk(2), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Order.objects.exists()


@pytest.fixture
def bulk_keys_meet(monkeypatch):
    """Holds each bulk's key INSERT until two requests are inside their transactions."""
    barrier = threading.Barrier(2, timeout=10)
    create = BulkSubmission.objects.create

    def create_when_both_are_inside(**fields):
        barrier.wait()
        return create(**fields)

    monkeypatch.setattr(BulkSubmission.objects, "create", create_when_both_are_inside)


@requires_postgres  # SQLite's IMMEDIATE transactions serialise the two requests before they could meet
@pytest.mark.django_db(transaction=True)
def test_two_racing_retries_of_one_bulk_store_it_once(alice, api_client_for, hoodie_offer, bulk_keys_meet):
    # given
    responses = []

    def submit():
        try:
            responses.append(api_client_for(alice).post(URL, bulk(50), format="json", HTTP_IDEMPOTENCY_KEY="race"))
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then: the second waited on the first's key, then got its orders back
    assert sorted(r.status_code for r in responses) == [200, 202]
    assert responses[0].json()["orders"] == responses[1].json()["orders"]
    assert Order.objects.count() == 50
    assert BulkSubmission.objects.get().order_ids == [o["id"] for o in responses[0].json()["orders"]]
