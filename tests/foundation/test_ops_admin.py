"""The ops role in the admin: what operating the platform needs, and nothing around the workflow."""

import pytest
from django.contrib.auth.models import Group

from analytics.models import JobRun
from orders.models import Order, Refund
from sleekbatch.roles import OPS
from suppliers.models import SupplierOrder
from tests.batches.factories import batch_in_review
from tests.factories import OrderFactory, SupplierOfferFactory, UserFactory

pytestmark = pytest.mark.django_db

# Every admin list ops need to operate the platform.
OPS_LISTS = [
    "/admin/orders/order/",
    "/admin/orders/refund/",
    "/admin/batches/productionbatch/",
    "/admin/batches/batchinreview/",
    "/admin/batches/batchcontribution/",
    "/admin/batches/batchevent/",
    "/admin/suppliers/supplier/",
    "/admin/suppliers/supplieroffer/",
    "/admin/suppliers/supplierorder/",
    "/admin/analytics/jobrun/",
]


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_migrate_gives_the_ops_group_its_permissions():
    # given: the database as migrate left it
    group = Group.objects.get(name=OPS)

    # then
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert {
        "orders.view_order",
        "orders.view_refund",
        "batches.view_productionbatch",
        "batches.view_batchinreview",
        "batches.decide_productionbatch",
        "suppliers.change_supplier",
        "suppliers.add_supplieroffer",
        "suppliers.change_supplieroffer",
        "suppliers.view_supplierorder",
    } <= granted
    assert not {p for p in granted if p.startswith(("orders.change_", "orders.add_", "orders.delete_"))}
    assert "suppliers.add_supplierorder" not in granted
    assert "batches.change_productionbatch" not in granted


@pytest.mark.parametrize("url", OPS_LISTS)
def test_ops_open_every_list_they_need(client, olivia, url):
    # given
    batch = batch_in_review(60)
    client.force_login(olivia)

    # when
    response = client.get(url)

    # then
    assert response.status_code == 200, url
    assert batch  # a populated database, so the rows render too


def test_the_admin_index_shows_ops_every_app_they_work_with(client, olivia):
    client.force_login(olivia)
    page = client.get("/admin/").content.decode()
    for url in OPS_LISTS:
        assert f'href="{url}"' in page, url


@pytest.mark.parametrize("who", ["olivia", "superuser"])
@pytest.mark.parametrize("model", [Order, Refund, SupplierOrder, JobRun])
def test_workflow_rows_are_read_only_for_everyone(client, request, who, model):
    # given
    client.force_login(request.getfixturevalue(who))
    order = OrderFactory(workflow_status=Order.Status.REJECTED, rejection_reason="no offer")
    opts = model._meta
    base = f"/admin/{opts.app_label}/{opts.model_name}/"

    # when
    add_page = client.get(f"{base}add/")
    edit = client.post(f"/admin/orders/order/{order.id}/change/", {"workflow_status": "confirmed"})
    view_page = client.get(f"/admin/orders/order/{order.id}/change/")

    # then
    assert add_page.status_code == 403
    assert edit.status_code == 403
    assert view_page.status_code == 200
    assert 'name="workflow_status"' not in view_page.content.decode()
    order.refresh_from_db()
    assert order.workflow_status == Order.Status.REJECTED


def test_ops_manage_suppliers_and_offers(client, olivia):
    # given
    offer = SupplierOfferFactory()
    client.force_login(olivia)

    # when
    supplier_page = client.get(f"/admin/suppliers/supplier/{offer.supplier_id}/change/")
    offer_page = client.get(f"/admin/suppliers/supplieroffer/{offer.id}/change/")

    # then: editable forms, the performance score shown but computed
    assert 'name="name"' in supplier_page.content.decode()
    assert 'name="performance_score"' not in supplier_page.content.decode()
    assert 'name="moq"' in offer_page.content.decode()


def test_a_buyer_gets_no_admin(client, alice):
    client.force_login(alice)
    response = client.get("/admin/orders/order/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
