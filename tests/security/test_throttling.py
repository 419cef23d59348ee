"""Per-user limits: a 429 with Retry-After past a rate, each user and scope counted on its own."""

import pytest

from orders.models import Order
from sleekbatch.throttling import parse_rate
from tests.batches.factories import batch_in_review
from tests.orders.conftest import order_payload

ORDERS = "/api/orders/"


@pytest.fixture
def rates(settings):
    """``rates(orders_submit="3/min")`` sets those rates for the test, the others as configured."""

    def set_rates(**overrides):
        rest = dict(settings.REST_FRAMEWORK)
        rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], **overrides}
        settings.REST_FRAMEWORK = rest

    return set_rates


def test_rates_read_as_drf_writes_them():
    assert parse_rate("600/min") == (600, 60)
    assert parse_rate("30/hour") == (30, 3600)
    assert parse_rate("5/s") == (5, 1)
    assert parse_rate("2/day") == (2, 86400)


def test_a_buyer_past_the_submission_rate_gets_429_with_retry_after(rates, api_client_for, alice, hoodie_offer):
    rates(orders_submit="3/min")
    client = api_client_for(alice)

    statuses = [client.post(ORDERS, order_payload(), format="json").status_code for _ in range(4)]
    refused = client.post(ORDERS, order_payload(), format="json")

    assert statuses == [202, 202, 202, 429]
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("application/json")
    assert "throttled" in refused.json()["detail"].lower()
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert Order.objects.count() == 3


def test_each_buyer_has_a_limit_of_their_own(rates, api_client_for, alice, bob, hoodie_offer):
    rates(orders_submit="2/min")
    alices, bobs = api_client_for(alice), api_client_for(bob)

    for _ in range(2):
        alices.post(ORDERS, order_payload(), format="json")

    assert alices.post(ORDERS, order_payload(), format="json").status_code == 429
    assert bobs.post(ORDERS, order_payload(), format="json").status_code == 202


def test_the_submission_scope_does_not_limit_reading(rates, api_client_for, alice, hoodie_offer):
    rates(orders_submit="1/min")
    client = api_client_for(alice)
    client.post(ORDERS, order_payload(), format="json")

    assert client.post(ORDERS, order_payload(), format="json").status_code == 429
    assert client.get(ORDERS).status_code == 200


def test_the_user_rate_covers_every_endpoint(rates, api_client_for, alice):
    rates(user="3/min")
    client = api_client_for(alice)

    assert [client.get(ORDERS).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_bulk_submission_has_its_own_tighter_scope(rates, api_client_for, alice, hoodie_offer):
    rates(orders_bulk="1/min")
    client = api_client_for(alice)
    body = {"orders": [order_payload()]}

    assert client.post("/api/orders/bulk/", body, format="json").status_code == 202
    assert client.post("/api/orders/bulk/", body, format="json").status_code == 429
    assert client.post(ORDERS, order_payload(), format="json").status_code == 202


def test_review_decisions_are_limited_per_ops_user(rates, api_client_for, olivia):
    rates(review_decisions="1/min")
    client = api_client_for(olivia)
    url = f"/api/batches/{batch_in_review().id}/extend/"

    assert client.post(url, {"hours": 1}, format="json").status_code == 200
    assert client.post(url, {"hours": 1}, format="json").status_code == 429


def test_a_refused_request_still_counts_so_probing_costs_the_prober(rates, api_client_for, alice, hoodie_offer):
    rates(orders_submit="2/min")
    client = api_client_for(alice)

    assert client.post(ORDERS, {"quantity": "x"}, format="json").status_code == 400
    assert client.post(ORDERS, {"quantity": "x"}, format="json").status_code == 400
    assert client.post(ORDERS, order_payload(), format="json").status_code == 429
