"""Order intake under faults: a stored order is always accepted; a database outage stores nothing and says so."""

import logging

import pytest
import redis
from django.db import OperationalError

from batches.pooling.tasks import request_pooling
from orders import services
from orders.models import Order
from sleekbatch.authentication import TokenWithRolesAuthentication
from tests.orders.conftest import order_payload

URL = "/api/orders/"
REAL_REQUEST_POOLING = request_pooling
BULK_URL = "/api/orders/bulk/"


@pytest.fixture
def trigger_redis_down(settings, monkeypatch):
    """The shared Redis (throttle counters, pooling trigger) and the broker refuse connections (port 1)."""
    from batches.pooling import tasks

    monkeypatch.setattr(tasks, "request_pooling", REAL_REQUEST_POOLING)  # not the conftest's probe
    settings.REDIS_URL = "redis://127.0.0.1:1/0"


@pytest.mark.django_db(transaction=True)
def test_a_stored_order_is_accepted_when_the_pooling_trigger_fails(
    alice, api_client_for, hoodie_offer, trigger_redis_down, caplog
):
    # when: in autocommit the trigger runs right after the INSERT, inside the request
    with caplog.at_level(logging.WARNING, logger="orders.services"):
        response = api_client_for(alice).post(URL, order_payload(), format="json")

    # then: the order is stored and accepted; the failure is logged for the watchdog to recover
    assert response.status_code == 202, response.content
    assert Order.objects.get().id == Order.objects.get(id=response.json()["id"]).id
    assert Order.objects.get().workflow_status == Order.Status.SUBMITTED
    (record,) = [r for r in caplog.records if r.getMessage() == "orders.submitted_announcement_failed"]
    assert isinstance(record.exc_info[1], redis.exceptions.ConnectionError)


@pytest.mark.django_db(transaction=True)
def test_a_stored_bulk_is_accepted_when_the_pooling_trigger_fails(
    alice, api_client_for, hoodie_offer, trigger_redis_down
):
    # when
    response = api_client_for(alice).post(BULK_URL, {"orders": [order_payload()] * 100}, format="json")

    # then
    assert response.status_code == 202, response.content
    assert Order.objects.filter(buyer=alice).count() == 100
    assert sorted(o["id"] for o in response.json()["orders"]) == sorted(
        str(i) for i in Order.objects.values_list("id", flat=True)
    )


@pytest.fixture
def database_down_at_insert(monkeypatch):
    def refused(*args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    monkeypatch.setattr(services.sql, "insert_row", refused)
    monkeypatch.setattr(services.Order.objects, "bulk_create", refused)


@pytest.mark.parametrize(("url", "body"), [(URL, order_payload()), (BULK_URL, {"orders": [order_payload()] * 3})])
def test_a_database_outage_is_a_503_with_retry_after_and_stores_nothing(
    url, body, alice, api_client_for, hoodie_offer, pooling_requests, database_down_at_insert
):
    # when
    response = api_client_for(alice).post(url, body, format="json")

    # then
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "5"
    assert response.json() == {"detail": "The database is unavailable, so nothing was stored. Please retry shortly."}
    assert not Order.objects.exists()
    assert pooling_requests == []


def test_a_database_outage_while_authenticating_is_a_503(alice, api_client_for, hoodie_offer, monkeypatch):
    # given: the token lookup cannot reach the database
    client = api_client_for(alice)

    def refused(self, key):
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(TokenWithRolesAuthentication, "authenticate_credentials", refused)

    # when
    response = client.post(URL, order_payload(), format="json")

    # then
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert not Order.objects.exists()
