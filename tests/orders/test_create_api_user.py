from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from sleekbatch.roles import BUYER, OPS, SUPPLIER, has_role
from suppliers.models import SupplierMembership
from suppliers.selectors import supplier_id_for_user
from tests.factories import SupplierFactory, SupplierOfferFactory
from tests.orders.conftest import order_payload


def create_api_user(*args) -> str:
    out = StringIO()
    call_command("create_api_user", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_it_creates_a_buyer_and_prints_a_token_that_can_submit_orders(db, client):
    # given
    SupplierOfferFactory(product_type="hoodie")

    # when
    token = create_api_user("carol", "--role", "buyer", "--email", "carol@example.com")

    # then
    user = get_user_model().objects.get(username="carol")
    assert token == Token.objects.get(user=user).key
    assert user.email == "carol@example.com"
    assert has_role(user, BUYER)
    assert not user.has_usable_password()
    response = client.post(
        "/api/orders/", order_payload(), content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert response.status_code == 202


def test_it_updates_an_existing_user_and_keeps_its_token(db):
    # given
    first_token = create_api_user("dave", "--role", "buyer")

    # when
    second_token = create_api_user("dave", "--role", "ops", "--email", "dave@example.com")

    # then
    user = get_user_model().objects.get(username="dave")
    assert second_token == first_token
    assert has_role(user, BUYER) and has_role(user, OPS)
    assert user.is_staff
    assert user.email == "dave@example.com"
    assert get_user_model().objects.filter(username="dave").count() == 1


def test_it_refuses_an_unknown_role_and_creates_nobody(db):
    # when
    with pytest.raises(CommandError, match="unknown role 'admin'; choose one of: buyer, ops, supplier"):
        create_api_user("eve", "--role", "admin")

    # then
    assert not get_user_model().objects.filter(username="eve").exists()


def test_it_needs_a_role(db):
    # when / then
    with pytest.raises(CommandError, match="--role"):
        create_api_user("frank")


def test_it_creates_a_supplier_user_who_belongs_to_that_supplier(db):
    # given
    supplier = SupplierFactory(code="dhaka-knits")

    # when
    token = create_api_user("sally", "--role", "supplier", "--supplier", "dhaka-knits")

    # then
    user = get_user_model().objects.get(username="sally")
    assert token == Token.objects.get(user=user).key
    assert has_role(user, SUPPLIER)
    assert supplier_id_for_user(user) == supplier.pk


def test_it_moves_a_supplier_user_to_another_supplier(db):
    # given
    SupplierFactory(code="dhaka-knits")
    porto = SupplierFactory(code="porto-textil")
    create_api_user("sally", "--role", "supplier", "--supplier", "dhaka-knits")

    # when
    create_api_user("sally", "--role", "supplier", "--supplier", "porto-textil")

    # then
    user = get_user_model().objects.get(username="sally")
    assert SupplierMembership.objects.filter(user=user).count() == 1
    assert supplier_id_for_user(user) == porto.pk


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--role", "supplier"), "--supplier CODE goes with --role supplier"),
        (("--role", "buyer", "--supplier", "dhaka-knits"), "--supplier CODE goes with --role supplier"),
        (("--role", "supplier", "--supplier", "nobody"), "no supplier with code 'nobody'"),
    ],
)
def test_it_refuses_a_supplier_user_without_a_known_supplier_and_creates_nobody(db, args, message):
    # given
    SupplierFactory(code="dhaka-knits")

    # when
    with pytest.raises(CommandError, match=message):
        create_api_user("sally", *args)

    # then
    assert not get_user_model().objects.filter(username="sally").exists()
