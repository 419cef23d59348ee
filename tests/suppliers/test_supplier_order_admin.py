"""Ops move supplier orders in the admin through the same lifecycle functions as the API."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from orders.models import Order
from suppliers.models import SupplierOrder, SupplierOrderEvent
from tests.suppliers.conftest import placed_supplier_order

pytestmark = pytest.mark.django_db

URL = "/admin/suppliers/supplierorder/"


def _act(client, action, supplier_orders, **fields):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(so.id) for so in supplier_orders], **fields}
    return client.post(URL, data, follow=True)


def test_ops_walk_a_supplier_order_to_delivered_in_the_admin(client, olivia, dhaka):
    # given
    supplier_order = placed_supplier_order(dhaka, quantity=80)
    client.force_login(olivia)

    # when
    _act(client, "acknowledge", [supplier_order])
    _act(client, "ship", [supplier_order])
    response = _act(client, "deliver", [supplier_order], delivered_units="80", defective_units="1")

    # then
    assert "Delivered: " + supplier_order.order_number in response.content.decode()
    supplier_order.refresh_from_db()
    assert (supplier_order.status, supplier_order.delivered_units, supplier_order.defective_units) == (
        "delivered",
        80,
        1,
    )
    assert set(SupplierOrderEvent.objects.values_list("actor__username", flat=True)) == {"olivia"}
    assert set(
        Order.objects.filter(contribution__batch_id=supplier_order.batch_id).values_list("workflow_status", flat=True)
    ) == {"delivered"}


def test_the_admin_refuses_bad_delivery_figures_and_stores_nothing(client, olivia, dhaka):
    # given
    supplier_order = placed_supplier_order(dhaka, quantity=80)
    client.force_login(olivia)
    _act(client, "acknowledge", [supplier_order])
    _act(client, "ship", [supplier_order])

    # when
    response = _act(client, "deliver", [supplier_order], delivered_units="80", defective_units="90")

    # then
    assert "Cannot exceed the delivered units." in response.content.decode()
    supplier_order.refresh_from_db()
    assert supplier_order.status == SupplierOrder.Status.SHIPPED


def test_the_admin_says_why_a_move_is_out_of_order(client, olivia, dhaka):
    # given
    supplier_order = placed_supplier_order(dhaka)
    client.force_login(olivia)

    # when
    response = _act(client, "ship", [supplier_order])

    # then
    assert "Cannot ship a supplier order that is placed" in response.content.decode()
    assert not SupplierOrderEvent.objects.exists()
