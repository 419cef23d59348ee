import uuid

import pytest
from rest_framework import serializers

from orders.api.serializers import OrderSerializer
from orders.models import Order
from orders.selectors import order_visible_to
from tests.factories import BatchContributionFactory, OrderFactory

URL = "/api/orders/"


def ids(response) -> set[str]:
    return {order["id"] for order in response.json()["results"]}


def test_it_lists_only_the_buyers_own_orders(alice, bob, api_client_for):
    # given
    own = OrderFactory.create_batch(2, buyer=alice)
    OrderFactory(buyer=bob)

    # when
    response = api_client_for(alice).get(URL)

    # then
    assert response.status_code == 200
    assert ids(response) == {str(order.id) for order in own}


def test_it_lists_every_order_for_ops(alice, bob, olivia, api_client_for):
    # given
    orders = [OrderFactory(buyer=alice), OrderFactory(buyer=bob)]

    # when
    response = api_client_for(olivia).get(URL)

    # then
    assert ids(response) == {str(order.id) for order in orders}


def test_it_filters_by_status(alice, api_client_for):
    # given
    pooled = OrderFactory(buyer=alice, workflow_status=Order.Status.POOLED)
    OrderFactory(buyer=alice, workflow_status=Order.Status.SUBMITTED)

    # when
    response = api_client_for(alice).get(URL, {"status": "pooled"})

    # then
    assert ids(response) == {str(pooled.id)}


def test_it_rejects_an_unknown_status_filter(alice, api_client_for):
    # when
    response = api_client_for(alice).get(URL, {"status": "lost"})

    # then
    assert response.status_code == 400
    assert "status" in response.json()


def test_it_pages_through_orders_newest_first_with_a_cursor(alice, api_client_for):
    # given
    orders = OrderFactory.create_batch(5, buyer=alice)
    client = api_client_for(alice)

    # when
    first = client.get(URL, {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    # then
    newest_first = [str(order.id) for order in sorted(orders, key=lambda o: o.created_at, reverse=True)]
    assert [order["id"] for order in first["results"] + second["results"]] == newest_first[:4]
    assert second["previous"] is not None


def test_it_shows_an_orders_batch_prices_and_rejection_reason(alice, api_client_for):
    # given
    contribution = BatchContributionFactory(order__buyer=alice, order__workflow_status=Order.Status.POOLED)
    order = contribution.order
    Order.objects.filter(pk=order.pk).update(unit_price="11.50", total_price="115.00")
    rejected = OrderFactory(buyer=alice, workflow_status=Order.Status.REJECTED, rejection_reason="No offer for capes")

    # when
    pooled_body = api_client_for(alice).get(f"{URL}{order.id}/").json()
    rejected_body = api_client_for(alice).get(f"{URL}{rejected.id}/").json()

    # then
    assert pooled_body["batch"] == str(contribution.batch_id)
    assert (pooled_body["unit_price"], pooled_body["total_price"]) == ("11.50", "115.00")
    assert pooled_body["workflow_status"] == "pooled"
    assert pooled_body["is_batch_order"] is True
    assert rejected_body["batch"] is None
    assert (rejected_body["workflow_status"], rejected_body["rejection_reason"]) == ("rejected", "No offer for capes")


def test_it_lists_batches_without_a_query_per_order(alice, api_client_for, django_assert_max_num_queries):
    # given
    for _ in range(5):
        BatchContributionFactory(order__buyer=alice)
    client = api_client_for(alice)

    # when / then: token with roles, one page of orders joined to their contributions
    with django_assert_max_num_queries(2):
        response = client.get(URL)
    assert all(order["batch"] for order in response.json()["results"])


def test_it_shows_ops_any_order(alice, olivia, api_client_for):
    # given
    order = OrderFactory(buyer=alice)

    # when
    response = api_client_for(olivia).get(f"{URL}{order.id}/")

    # then
    assert response.status_code == 200
    assert response.json()["id"] == str(order.id)


def test_it_hides_another_buyers_order(alice, bob, api_client_for):
    # given
    order = OrderFactory(buyer=bob)

    # when
    response = api_client_for(alice).get(f"{URL}{order.id}/")

    # then
    assert response.status_code == 404


@pytest.mark.parametrize("order_id", [uuid.uuid4(), "not-a-uuid"])
def test_it_answers_404_for_a_missing_order(order_id, alice, api_client_for):
    # when
    response = api_client_for(alice).get(f"{URL}{order_id}/")

    # then
    assert response.status_code == 404


def test_it_needs_a_token_to_read_orders(anon_client, alice):
    # given
    order = OrderFactory(buyer=alice)

    # when
    responses = [anon_client.get(URL), anon_client.get(f"{URL}{order.id}/")]

    # then
    assert [response.status_code for response in responses] == [401, 401]


def test_it_refuses_order_reads_to_suppliers(sam, alice, api_client_for):
    # given
    order = OrderFactory(buyer=alice)

    # when
    responses = [api_client_for(sam).get(URL), api_client_for(sam).get(f"{URL}{order.id}/")]

    # then
    assert [response.status_code for response in responses] == [403, 403]


@pytest.mark.parametrize("annotated", [True, False], ids=["from a selector", "plain instance"])
def test_it_represents_an_order_as_its_declared_fields_would(annotated, alice):
    # given: a priced, pooled order
    contribution = BatchContributionFactory(order__buyer=alice)
    Order.objects.filter(pk=contribution.order_id).update(unit_price="9.5", total_price="95")
    orders = order_visible_to(user=alice) if annotated else Order.objects.all()
    order = orders.get(pk=contribution.order_id)

    # when: the fast representation and DRF's field-by-field one
    fast = OrderSerializer(order).data
    by_fields = serializers.Serializer.to_representation(OrderSerializer(order), order)

    # then
    assert fast == by_fields
    assert fast["batch"] == str(contribution.batch_id)
