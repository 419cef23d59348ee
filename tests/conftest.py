import uuid

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from sleekbatch.roles import BUYER, OPS, SUPPLIER, assign_role, role_grants_in_migrations
from tests.factories import UserFactory

requires_postgres = pytest.mark.skipif(
    not settings.IS_POSTGRES, reason="needs PostgreSQL (run with DATABASE_URL=postgres://…; `make test` does)"
)


def _persona(username: str, role: str):
    user = UserFactory(username=username)
    assign_role(user, role)
    if role == OPS:
        _restore_ops_group_permissions()
    return user


def _restore_ops_group_permissions():
    """The ops group as migrate creates it: a transactional test's flush empties the group table."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    wanted = Q(pk__in=[])
    for app_label, codename in role_grants_in_migrations(OPS):
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    Group.objects.get(name=OPS).permissions.add(*Permission.objects.filter(wanted))


@pytest.fixture
def alice(db):
    """A buyer."""
    return _persona("alice", BUYER)


@pytest.fixture
def bob(db):
    """Another buyer."""
    return _persona("bob", BUYER)


@pytest.fixture
def olivia(db):
    """Operations staff."""
    return _persona("olivia", OPS)


@pytest.fixture
def sam(db):
    """A supplier's user."""
    return _persona("sam", SUPPLIER)


def _client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api_client_for():
    """``api_client_for(user)`` → an APIClient authenticated with the user's token."""
    return _client_for


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture(autouse=True)
def fresh_throttle_counters(monkeypatch):
    """Each test counts requests under its own keys: user ids repeat from test to test,
    and a shared count would throttle a test for what the tests before it sent."""
    monkeypatch.setattr("sleekbatch.throttling.KEY_PREFIX", f"test-throttle:{uuid.uuid4().hex}")
    monkeypatch.setattr("sleekbatch.login_guard.KEY_PREFIX", f"test-login-failures:{uuid.uuid4().hex}")
