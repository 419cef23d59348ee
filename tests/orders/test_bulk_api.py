import math

import pytest
from django.conf import settings
from django.db import connection

from orders.models import Order
from tests.orders.conftest import order_payload

URL = "/api/orders/bulk/"


def bulk(count: int, **overrides) -> dict:
    return {"orders": [order_payload(**overrides) for _ in range(count)]}


def test_it_stores_every_order_of_a_valid_bulk(
    alice, api_client_for, hoodie_offer, pooling_requests, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(alice).post(URL, bulk(3), format="json", HTTP_X_REQUEST_ID="bulk-1")

    # then
    assert response.status_code == 202, response.content
    returned = response.json()["orders"]
    stored = Order.objects.filter(buyer=alice)
    assert sorted(order["id"] for order in returned) == sorted(str(order.id) for order in stored)
    assert {(order.workflow_status, order.correlation_id, order.quantity) for order in stored} == {
        ("submitted", "bulk-1", 12)
    }
    assert {order["workflow_status"] for order in returned} == {"submitted"}
    assert all(order["created_at"] and order["batch"] is None for order in returned)
    assert pooling_requests == ["pooling"]  # once for the request, not once per order


def test_it_stores_nothing_when_one_order_is_invalid(alice, api_client_for, hoodie_offer, pooling_requests):
    # given: the third order has a bad quantity, the fifth an unknown product type
    payload = bulk(5)
    payload["orders"][2]["quantity"] = 0
    payload["orders"][4]["product_type"] = "ballgown"

    # when
    response = api_client_for(alice).post(URL, payload, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "orders": {
            "2": {"quantity": ["Ensure this value is greater than or equal to 1."]},
            "4": {"product_type": ["Unknown product type 'ballgown': no supplier offers it."]},
        }
    }
    assert not Order.objects.exists()
    assert pooling_requests == []


def test_it_reports_field_and_catalogue_errors_by_index(alice, api_client_for, hoodie_offer):
    # given
    payload = bulk(4)
    payload["orders"][1]["product_type"] = "ballgown"
    payload["orders"][3]["style_details"] = [{"style": f"s{n}"} for n in range(4)]
    payload["orders"][3]["quantity"] = 40

    # when
    errors = api_client_for(alice).post(URL, payload, format="json").json()

    # then
    assert set(errors["orders"]) == {"1", "3"}
    assert "product_type" in errors["orders"]["1"]
    assert "style_details" in errors["orders"]["3"]
    assert not Order.objects.exists()


def test_it_accepts_the_largest_bulk(
    alice, api_client_for, hoodie_offer, pooling_requests, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(alice).post(URL, bulk(settings.ORDER_BULK_MAX), format="json")

    # then
    assert response.status_code == 202
    assert len(response.json()["orders"]) == settings.ORDER_BULK_MAX
    assert Order.objects.count() == settings.ORDER_BULK_MAX
    assert pooling_requests == ["pooling"]


def test_it_refuses_a_bulk_over_the_limit(alice, api_client_for, hoodie_offer):
    # when
    response = api_client_for(alice).post(URL, bulk(settings.ORDER_BULK_MAX + 1), format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {"orders": [f"Ensure this field has no more than {settings.ORDER_BULK_MAX} elements."]}
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"orders": []}, "orders"),
        ({}, "orders"),
        ({"orders": order_payload()}, "orders"),
        ({"orders": [order_payload()], "dry_run": True}, "dry_run"),
    ],
    ids=["empty", "missing", "not a list", "unknown field"],
)
def test_it_rejects_a_malformed_bulk(payload, field, alice, api_client_for, hoodie_offer):
    # when
    response = api_client_for(alice).post(URL, payload, format="json")

    # then
    assert response.status_code == 400
    assert field in response.json()
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_inserts_a_bulk_with_one_catalogue_query_and_multi_row_inserts(
    alice, api_client_for, hoodie_offer, django_assert_max_num_queries
):
    # given: a cold catalogue and 100 orders
    client = api_client_for(alice)
    payload = bulk(100)
    rows_per_insert = connection.ops.bulk_batch_size(Order._meta.concrete_fields, [Order()] * 100)

    # when: token with roles, the catalogue, BEGIN, the INSERT(s), COMMIT
    with django_assert_max_num_queries(4 + math.ceil(100 / rows_per_insert)) as queries:
        response = client.post(URL, payload, format="json")

    # then: one INSERT on PostgreSQL; SQLite caps the parameters of a statement
    assert response.status_code == 202
    inserts = [query for query in queries.captured_queries if query["sql"].startswith("INSERT")]
    assert len(inserts) == math.ceil(100 / rows_per_insert)
    if connection.vendor == "postgresql":
        assert len(inserts) == 1
    assert Order.objects.count() == 100


def test_it_refuses_bulk_orders_without_a_token_or_from_non_buyers(anon_client, olivia, api_client_for, hoodie_offer):
    # when
    anonymous = anon_client.post(URL, bulk(1), format="json")
    ops = api_client_for(olivia).post(URL, bulk(1), format="json")

    # then
    assert (anonymous.status_code, ops.status_code) == (401, 403)
    assert not Order.objects.exists()
