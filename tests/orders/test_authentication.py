import pytest
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from orders.api.authentication import TokenWithRolesAuthentication
from sleekbatch.roles import BUYER, OPS, SUPPLIER, assign_role, has_role
from tests.factories import UserFactory


def authenticate(user):
    token, _ = Token.objects.get_or_create(user=user)
    return TokenWithRolesAuthentication().authenticate_credentials(token.key)


def test_it_loads_the_user_and_all_its_roles_in_one_query(alice, django_assert_num_queries):
    # given
    assign_role(alice, SUPPLIER)
    token, _ = Token.objects.get_or_create(user=alice)

    # when
    with django_assert_num_queries(1):
        user, auth = TokenWithRolesAuthentication().authenticate_credentials(token.key)
        roles = {role for role in (BUYER, OPS, SUPPLIER) if has_role(user, role)}

    # then
    assert (user.pk, user.username, auth.key, auth.user) == (alice.pk, "alice", token.key, user)
    assert roles == {BUYER, SUPPLIER}
    assert user.date_joined == alice.date_joined  # values converted as the ORM would


def test_it_authenticates_a_user_without_roles(db, django_assert_num_queries):
    # given
    user = UserFactory(username="norole")

    # when
    authenticated, _ = authenticate(user)

    # then
    with django_assert_num_queries(0):
        assert not any(has_role(authenticated, role) for role in (BUYER, OPS, SUPPLIER))


def test_it_treats_a_superuser_as_ops(db):
    # given
    user = UserFactory(username="root", is_superuser=True)

    # when
    authenticated, _ = authenticate(user)

    # then
    assert has_role(authenticated, OPS) and not has_role(authenticated, BUYER)


def test_it_refuses_an_unknown_token(db):
    with pytest.raises(AuthenticationFailed, match="Invalid token"):
        TokenWithRolesAuthentication().authenticate_credentials("0" * 40)


def test_it_refuses_an_inactive_user(alice):
    # given
    alice.is_active = False
    alice.save()

    # when / then
    with pytest.raises(AuthenticationFailed, match="inactive"):
        authenticate(alice)


def test_it_answers_401_with_a_token_challenge(anon_client):
    # when
    response = anon_client.get("/api/orders/")

    # then
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
