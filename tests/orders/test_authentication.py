import time

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from sleekbatch import authentication
from sleekbatch.authentication import TokenWithRolesAuthentication
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


def test_it_remembers_a_token_and_serves_the_next_request_without_a_query(alice, django_assert_num_queries):
    # given
    token = Token.objects.create(user=alice)
    TokenWithRolesAuthentication().authenticate_credentials(token.key)

    # when
    with django_assert_num_queries(0):
        user, _ = TokenWithRolesAuthentication().authenticate_credentials(token.key)

    # then
    assert (user.pk, user.username, user.date_joined) == (alice.pk, "alice", alice.date_joined)
    assert has_role(user, BUYER) and not has_role(user, OPS)


def test_it_gives_each_request_its_own_user_instance(alice):
    # given
    first, _ = authenticate(alice)
    first.first_name = "changed by a view"

    # when
    second, _ = authenticate(alice)

    # then
    assert second is not first and second.first_name == alice.first_name


def test_it_refuses_a_deleted_token_at_once_in_this_process(alice):
    # given
    token = Token.objects.create(user=alice)
    key = token.key  # delete() clears the primary key, which is the key
    TokenWithRolesAuthentication().authenticate_credentials(key)

    # when
    token.delete()

    # then
    with pytest.raises(AuthenticationFailed, match="Invalid token"):
        TokenWithRolesAuthentication().authenticate_credentials(key)


def test_it_refuses_a_deactivated_user_at_once_in_this_process(alice):
    # given
    authenticate(alice)

    # when
    alice.is_active = False
    alice.save()

    # then
    with pytest.raises(AuthenticationFailed, match="inactive"):
        authenticate(alice)


def test_it_sees_a_role_taken_away_or_given_at_once_in_this_process(alice):
    # given
    authenticate(alice)

    # when
    alice.groups.clear()
    assign_role(alice, OPS)

    # then
    user, _ = authenticate(alice)
    assert has_role(user, OPS) and not has_role(user, BUYER)


def test_it_sees_a_renamed_role_group_at_once_in_this_process(alice):
    # given
    authenticate(alice)

    # when
    group = Group.objects.get(name=BUYER)
    group.name = "former-buyer"
    group.save()

    # then
    user, _ = authenticate(alice)
    assert not has_role(user, BUYER)


def test_it_accepts_a_token_revoked_by_another_process_until_the_entry_expires(alice, monkeypatch):
    # given: remembered here, then deleted where this process hears no signal
    token = Token.objects.create(user=alice)
    authenticate(alice)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Token._meta.db_table} WHERE {Token._meta.pk.column} = %s", [token.key])
    now = time.monotonic()

    # when / then: still accepted within the TTL (the documented trade-off), refused after it
    monkeypatch.setattr(time, "monotonic", lambda: now + authentication.AUTH_CACHE_TTL_SECONDS - 1)
    user, _ = TokenWithRolesAuthentication().authenticate_credentials(token.key)
    assert user.pk == alice.pk
    monkeypatch.setattr(time, "monotonic", lambda: now + authentication.AUTH_CACHE_TTL_SECONDS + 1)
    with pytest.raises(AuthenticationFailed, match="Invalid token"):
        TokenWithRolesAuthentication().authenticate_credentials(token.key)


def test_it_keeps_the_ttl_short_so_a_revocation_elsewhere_is_late_by_seconds_only():
    assert 0 < authentication.AUTH_CACHE_TTL_SECONDS <= 30
