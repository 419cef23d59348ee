from decimal import Decimal

import pytest
from django.conf import settings

from orders.models import Order
from tests.factories import SupplierOfferFactory
from tests.orders.conftest import order_payload

URL = "/api/orders/"


def test_it_accepts_an_order_and_stores_it_as_submitted(alice, api_client_for, hoodie_offer):
    # given
    client = api_client_for(alice)

    # when
    response = client.post(URL, order_payload(), format="json")

    # then
    assert response.status_code == 202, response.content
    order = Order.objects.get()
    assert order.buyer == alice
    assert (order.product_type, order.quantity, order.workflow_status) == ("hoodie", 12, "submitted")
    assert order.style_details == [{"style": "classic", "color": "navy", "sizes": {"M": 8, "L": 4}}]
    assert order.idempotency_key is None
    body = response.json()
    assert body["id"] == str(order.id)
    assert body["workflow_status"] == "submitted"
    assert body["batch"] is None
    assert body["is_batch_order"] is True
    assert (body["unit_price"], body["total_price"], body["rejection_reason"]) == (None, None, "")
    assert set(body) == {
        "id",
        "product_type",
        "quantity",
        "style_details",
        "workflow_status",
        "is_batch_order",
        "unit_price",
        "total_price",
        "rejection_reason",
        "batch",
        "buyer",
        "refund",
        "expected_delivery",
        "created_at",
        "updated_at",
    }


def test_it_accepts_styles_without_sizes_or_colors(alice, api_client_for, hoodie_offer):
    # given
    client = api_client_for(alice)
    payload = order_payload(quantity=30, style_details=[{"style": "classic"}, {"style": "zip", "color": "black"}])

    # when
    response = client.post(URL, payload, format="json")

    # then
    assert response.status_code == 202, response.content
    assert Order.objects.get().style_details == [{"style": "classic"}, {"style": "zip", "color": "black"}]


def test_it_stores_the_request_correlation_id_on_the_order(alice, api_client_for, hoodie_offer):
    # given
    client = api_client_for(alice)

    # when
    response = client.post(URL, order_payload(), format="json", HTTP_X_REQUEST_ID="req-42")

    # then
    assert response.status_code == 202
    assert response["X-Request-ID"] == "req-42"
    assert Order.objects.get().correlation_id == "req-42"


def test_it_generates_a_correlation_id_when_none_is_sent(alice, api_client_for, hoodie_offer):
    # when
    response = api_client_for(alice).post(URL, order_payload(), format="json")

    # then
    assert Order.objects.get().correlation_id == response["X-Request-ID"] != ""


def test_it_accepts_the_largest_quantity_and_as_many_styles_as_the_roomiest_offer(alice, api_client_for, db):
    # given: two offers; the roomier one takes 5 styles
    SupplierOfferFactory(product_type="tee", max_styles=2)
    SupplierOfferFactory(product_type="tee", max_styles=5)
    styles = [{"style": f"style-{n}"} for n in range(5)]

    # when
    response = api_client_for(alice).post(
        URL, {"product_type": "tee", "quantity": settings.ORDER_MAX_QUANTITY, "style_details": styles}, format="json"
    )

    # then
    assert response.status_code == 202, response.content
    assert Order.objects.get().quantity == settings.ORDER_MAX_QUANTITY


def test_it_counts_distinct_styles_not_style_items(alice, api_client_for, db):
    # given: one style in three colors is one style
    SupplierOfferFactory(product_type="tee", max_styles=1)
    items = [{"style": "classic", "color": color} for color in ("black", "navy", "sand")]

    # when
    response = api_client_for(alice).post(
        URL, {"product_type": "tee", "quantity": 30, "style_details": items}, format="json"
    )

    # then
    assert response.status_code == 202, response.content


def test_it_refuses_a_request_without_a_token(anon_client, hoodie_offer):
    # when
    response = anon_client.post(URL, order_payload(), format="json")

    # then
    assert response.status_code == 401
    assert not Order.objects.exists()


def test_it_refuses_a_wrong_token(anon_client, hoodie_offer):
    # given
    anon_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    # when
    response = anon_client.post(URL, order_payload(), format="json")

    # then
    assert response.status_code == 401


@pytest.mark.parametrize("persona", ["olivia", "sam"])
def test_it_refuses_orders_from_users_who_are_not_buyers(persona, request, api_client_for, hoodie_offer):
    # given
    user = request.getfixturevalue(persona)

    # when
    response = api_client_for(user).post(URL, order_payload(), format="json")

    # then
    assert response.status_code == 403
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)  # real BEGIN/COMMIT, not the savepoints of a test transaction
def test_it_keeps_the_post_to_token_auth_role_check_and_one_insert(
    alice, api_client_for, hoodie_offer, django_assert_max_num_queries
):
    # given: the catalogue is already cached, as it is on a warm web process
    client = api_client_for(alice)
    assert client.post(URL, order_payload(), format="json").status_code == 202

    # when / then: 2 queries: the token with its user and roles (one query), then the INSERT
    # (no BEGIN/COMMIT either: the single INSERT runs in autocommit).
    with django_assert_max_num_queries(2):
        response = client.post(URL, order_payload(), format="json")
    assert response.status_code == 202
    assert Order.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_it_reads_the_catalogue_once_per_process_not_per_order(
    alice, api_client_for, hoodie_offer, django_assert_num_queries
):
    # given: a cold process
    client = api_client_for(alice)

    # when / then: the first POST reads token, catalogue and inserts; the second only inserts
    # (the token, too, is remembered per process: sleekbatch.authentication)
    with django_assert_num_queries(3):
        client.post(URL, order_payload(), format="json")
    with django_assert_num_queries(1):
        client.post(URL, order_payload(), format="json")


def test_it_returns_prices_as_decimal_strings_once_priced(alice, api_client_for, hoodie_offer):
    # given
    client = api_client_for(alice)
    order_id = client.post(URL, order_payload(), format="json").json()["id"]
    Order.objects.filter(pk=order_id).update(unit_price=Decimal("11.5"), total_price=Decimal("138"))

    # when
    body = client.get(f"{URL}{order_id}/").json()

    # then
    assert (body["unit_price"], body["total_price"]) == ("11.50", "138.00")
