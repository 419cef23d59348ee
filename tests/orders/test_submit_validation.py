from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from rest_framework.exceptions import ValidationError

from orders.api.serializers import order_submit_validate
from orders.models import Order
from tests.factories import SupplierFactory, SupplierOfferFactory
from tests.orders.conftest import order_payload

URL = "/api/orders/"


def styles(count: int) -> list[dict]:
    return [{"style": f"style-{n}"} for n in range(count)]


INVALID_ORDERS = {
    "unknown product type": (order_payload(product_type="ballgown"), "product_type"),
    "product type of the wrong type": (order_payload(product_type=7), "product_type"),
    "zero quantity": (order_payload(quantity=0, style_details=[{"style": "classic"}]), "quantity"),
    "negative quantity": (order_payload(quantity=-5, style_details=[{"style": "classic"}]), "quantity"),
    "quantity above the limit": (
        order_payload(quantity=settings.ORDER_MAX_QUANTITY + 1, style_details=[{"style": "classic"}]),
        "quantity",
    ),
    "quantity as a string": (order_payload(quantity="12"), "quantity"),
    "quantity as a float": (order_payload(quantity=12.0), "quantity"),
    "quantity as a boolean": (order_payload(quantity=True, style_details=[{"style": "classic"}]), "quantity"),
    "missing quantity": ({"product_type": "hoodie", "style_details": [{"style": "classic"}]}, "quantity"),
    "missing product type": ({"quantity": 5, "style_details": [{"style": "classic"}]}, "product_type"),
    "missing style details": ({"product_type": "hoodie", "quantity": 5}, "style_details"),
    "empty style list": (order_payload(style_details=[]), "style_details"),
    "style details not a list": (order_payload(style_details={"style": "classic"}), "style_details"),
    "style item not an object": (order_payload(style_details=["classic"]), "style_details"),
    "style item without a style": (order_payload(style_details=[{"color": "navy"}]), "style_details"),
    "style of the wrong type": (order_payload(style_details=[{"style": 42}]), "style_details"),
    "empty style": (order_payload(style_details=[{"style": ""}]), "style_details"),
    "too many styles": (order_payload(quantity=40, style_details=styles(4)), "style_details"),
    "style longer than 50": (order_payload(style_details=[{"style": "s" * 51}]), "style_details"),
    "color longer than 30": (order_payload(style_details=[{"style": "classic", "color": "c" * 31}]), "style_details"),
    "sizes not adding up": (order_payload(style_details=[{"style": "classic", "sizes": {"M": 8}}]), "style_details"),
    "sizes over several styles not adding up": (
        order_payload(
            quantity=12, style_details=[{"style": "a", "sizes": {"M": 6}}, {"style": "b", "sizes": {"L": 7}}]
        ),
        "style_details",
    ),
    "sizes for only some styles": (
        order_payload(quantity=12, style_details=[{"style": "a", "sizes": {"M": 12}}, {"style": "b"}]),
        "style_details",
    ),
    "zero size count": (
        order_payload(style_details=[{"style": "classic", "sizes": {"M": 12, "L": 0}}]),
        "style_details",
    ),
    "size count as a string": (
        order_payload(style_details=[{"style": "classic", "sizes": {"M": "12"}}]),
        "style_details",
    ),
    "sizes not an object": (order_payload(style_details=[{"style": "classic", "sizes": [12]}]), "style_details"),
    "empty sizes": (order_payload(style_details=[{"style": "classic", "sizes": {}}]), "style_details"),
    "size label longer than 10": (
        order_payload(style_details=[{"style": "classic", "sizes": {"L" * 11: 12}}]),
        "style_details",
    ),
    "unknown field": (order_payload(priority="rush"), "priority"),
    "misspelt field": (
        {"product_type": "hoodie", "quantiy": 12, "style_details": [{"style": "classic"}]},
        "quantiy",
    ),
    "unknown field in a style item": (
        order_payload(style_details=[{"style": "classic", "fabric": "silk", "sizes": {"M": 12}}]),
        "style_details",
    ),
    "read-only field sent": (order_payload(workflow_status="confirmed"), "workflow_status"),
}


@pytest.mark.parametrize("payload, field", INVALID_ORDERS.values(), ids=INVALID_ORDERS.keys())
def test_it_rejects_invalid_orders_with_field_errors_and_stores_nothing(
    payload, field, alice, api_client_for, hoodie_offer, pooling_requests
):
    # when
    response = api_client_for(alice).post(URL, payload, format="json")

    # then
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Order.objects.exists()
    assert pooling_requests == []


def test_it_points_at_the_style_item_at_fault(alice, api_client_for, hoodie_offer):
    # given
    payload = order_payload(quantity=20, style_details=[{"style": "ok"}, {"style": "x" * 51, "color": "c" * 31}])

    # when
    errors = api_client_for(alice).post(URL, payload, format="json").json()

    # then
    assert set(errors["style_details"]) == {"1"}
    assert set(errors["style_details"]["1"]) == {"style", "color"}


def test_it_reports_all_field_errors_and_unknown_fields_together(alice, api_client_for, hoodie_offer):
    # when
    response = api_client_for(alice).post(
        URL, {"product_type": "hoodie", "quantity": 0, "style_details": [], "extra": 1}, format="json"
    )

    # then
    assert response.status_code == 400
    assert set(response.json()) == {"quantity", "style_details", "extra"}


def test_it_rejects_malformed_json(alice, api_client_for, hoodie_offer):
    # when
    response = api_client_for(alice).post(
        URL, '{"product_type": "hoodie", "quantity": ', content_type="application/json"
    )

    # then
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    assert not Order.objects.exists()


def test_it_rejects_a_body_that_is_not_an_object(alice, api_client_for, hoodie_offer):
    # when
    response = api_client_for(alice).post(URL, [order_payload()], format="json")

    # then
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not Order.objects.exists()


def test_it_accepts_only_json_bodies(alice, api_client_for, hoodie_offer):
    # when
    response = api_client_for(alice).post(URL, {"product_type": "hoodie", "quantity": 12}, format="multipart")

    # then
    assert response.status_code == 415
    assert not Order.objects.exists()


def test_it_treats_a_product_type_with_only_inactive_offers_as_unknown(alice, api_client_for, db):
    # given
    SupplierOfferFactory(product_type="tee", is_active=False)
    SupplierOfferFactory(product_type="cap", supplier=SupplierFactory(is_active=False))

    # when
    responses = [
        api_client_for(alice).post(URL, order_payload(product_type=product_type), format="json")
        for product_type in ("tee", "cap")
    ]

    # then
    assert [response.status_code for response in responses] == [400, 400]
    assert not Order.objects.exists()


def test_it_names_the_style_limit_of_the_product_type(alice, api_client_for, hoodie_offer):
    # when
    response = api_client_for(alice).post(URL, order_payload(quantity=40, style_details=styles(4)), format="json")

    # then
    assert response.json()["style_details"] == [
        "4 distinct styles, but suppliers of 'hoodie' make at most 3 per batch."
    ]


def test_it_validates_concurrent_submissions_independently(hoodie_offer):
    # given: the shared validator, with the catalogue already read (threads do not query)
    order_submit_validate(order_payload())
    bodies = [
        order_payload(quantity=0) if n % 3 == 0 else order_payload(quantity=n, style_details=[{"style": "a"}])
        for n in range(1, 301)
    ]

    def validate(body):
        try:
            return order_submit_validate(body)["quantity"]
        except ValidationError as exc:
            return sorted(exc.detail)

    # when
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(validate, bodies))

    # then: each body got its own answer, not another thread's
    assert results == [["quantity"] if n % 3 == 0 else n for n in range(1, 301)]
