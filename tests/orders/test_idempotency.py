import threading

import pytest
from django.db import connection

from orders import services
from orders.models import Order
from orders.services import order_request_fingerprint
from tests.orders.conftest import order_payload

URL = "/api/orders/"


@pytest.fixture
def inserts_meet(monkeypatch):
    """Holds each order INSERT until two requests have reached it, so both pass every check first."""
    barrier = threading.Barrier(2, timeout=10)
    insert = services.sql.insert_row

    def insert_when_both_are_inserting(order):
        barrier.wait()
        insert_when_both_are_inserting.arrivals.append(order.id)  # list.append is atomic across threads
        return insert(order)

    insert_when_both_are_inserting.arrivals = []
    monkeypatch.setattr(services.sql, "insert_row", insert_when_both_are_inserting)
    return insert_when_both_are_inserting


def test_it_returns_the_first_order_again_for_a_replayed_key(alice, api_client_for, hoodie_offer, pooling_requests):
    # given
    client = api_client_for(alice)
    first = client.post(URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="order-1")

    # when
    replay = client.post(URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="order-1")

    # then
    assert (first.status_code, replay.status_code) == (202, 200)
    assert replay.json() == first.json()
    order = Order.objects.get()
    assert order.idempotency_key == "order-1"
    assert order.request_fingerprint == order_request_fingerprint(order_payload())
    assert len(order.request_fingerprint) == 64


def test_it_matches_bodies_regardless_of_key_order_and_spacing(alice, api_client_for, hoodie_offer):
    # given
    client = api_client_for(alice)
    client.post(URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    reordered = '{"style_details": [{"sizes": {"L": 4, "M": 8}, "color": "navy", "style": "classic"}],\n'
    reordered += '  "quantity": 12,   "product_type": "hoodie"}'

    # when
    replay = client.post(URL, reordered, content_type="application/json", HTTP_IDEMPOTENCY_KEY="order-1")

    # then
    assert replay.status_code == 200
    assert Order.objects.count() == 1


def test_it_refuses_a_reused_key_with_another_body(alice, api_client_for, hoodie_offer, pooling_requests):
    # given
    client = api_client_for(alice)
    client.post(URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="order-1")

    # when
    response = client.post(
        URL,
        order_payload(quantity=13, style_details=[{"style": "classic"}]),
        format="json",
        HTTP_IDEMPOTENCY_KEY="order-1",
    )

    # then
    assert response.status_code == 409
    assert "already used for a different request" in response.json()["detail"]
    assert Order.objects.get().quantity == 12


def test_it_scopes_keys_to_the_buyer(alice, bob, api_client_for, hoodie_offer):
    # when
    responses = [
        api_client_for(buyer).post(URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="order-1")
        for buyer in (alice, bob)
    ]

    # then
    assert [response.status_code for response in responses] == [202, 202]
    assert set(Order.objects.values_list("buyer__username", flat=True)) == {"alice", "bob"}


def test_it_creates_a_new_order_per_request_without_a_key(alice, api_client_for, hoodie_offer):
    # given
    client = api_client_for(alice)

    # when
    statuses = [client.post(URL, order_payload(), format="json").status_code for _ in range(2)]

    # then
    assert statuses == [202, 202]
    assert Order.objects.count() == 2
    assert set(Order.objects.values_list("request_fingerprint", flat=True)) == {""}


@pytest.mark.parametrize("key", ["k" * 256, "   "], ids=["longer than 255", "blank"])
def test_it_rejects_an_unusable_key(key, alice, api_client_for, hoodie_offer):
    # when
    response = api_client_for(alice).post(URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY=key)

    # then
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Order.objects.exists()


def test_it_accepts_a_key_of_255_characters(alice, api_client_for, hoodie_offer):
    # when
    response = api_client_for(alice).post(URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k" * 255)

    # then
    assert response.status_code == 202
    assert Order.objects.get().idempotency_key == "k" * 255


def test_it_replays_an_order_whose_product_type_was_withdrawn_since(alice, api_client_for, hoodie_offer):
    # given: the order was stored, then the only offer was withdrawn
    client = api_client_for(alice)
    first = client.post(URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    hoodie_offer.is_active = False
    hoodie_offer.save()

    # when: the buyer's retry arrives
    replay = client.post(URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="order-1")

    # then: it learns that its order exists, not that the product is unknown
    assert replay.status_code == 200
    assert replay.json()["id"] == first.json()["id"]


@pytest.mark.django_db(transaction=True)
def test_it_stores_one_order_when_two_requests_race_with_one_key(alice, api_client_for, hoodie_offer, inserts_meet):
    """Both requests pass any check before either inserts; the unique constraint decides."""
    # given: each request waits at its INSERT until both have got there (inserts_meet)
    responses = []

    def submit():
        try:
            response = api_client_for(alice).post(URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="race")
            responses.append(response)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then: one created it, the other got the same order back
    assert sorted(response.status_code for response in responses) == [200, 202]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    assert Order.objects.filter(idempotency_key="race").count() == 1
    assert len(inserts_meet.arrivals) == 2  # both really met at the INSERT: this was a race


@pytest.mark.django_db(transaction=True)
def test_it_refuses_the_loser_of_a_race_with_another_body(alice, api_client_for, hoodie_offer, inserts_meet):
    # given: each request waits at its INSERT until both have got there (inserts_meet)
    responses = []

    def submit(quantity):
        try:
            payload = order_payload(quantity=quantity, style_details=[{"style": "classic"}])
            responses.append(api_client_for(alice).post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="race"))
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=submit, args=(quantity,)) for quantity in (10, 20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then
    assert sorted(response.status_code for response in responses) == [202, 409]
    assert Order.objects.filter(idempotency_key="race").count() == 1
    assert len(inserts_meet.arrivals) == 2  # both really met at the INSERT: this was a race
