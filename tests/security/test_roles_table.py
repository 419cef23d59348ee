"""Every endpoint of the OpenAPI schema, called as every persona, answers as tests/security/roles_table.py says."""

import json
import re
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from analytics.reports.models import Report
from orders.models import Notification
from sleekbatch.roles import BUYER, OPS, SUPPLIER
from suppliers.models import SupplierMembership
from tests.batches.factories import PooledOrderFactory, batch_in_review
from tests.conftest import _client_for, _persona
from tests.factories import BatchContributionFactory, SupplierOrderFactory
from tests.security.roles_table import BODIES, PATH_PARAMETERS, PERSONAS, ROLES_TABLE, World

ROLES_TABLE_FILE = "tests/security/roles_table.py"


def schema_operations() -> list[tuple[str, str]]:
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return sorted((method.upper(), path) for path, operations in paths.items() for method in operations)


OPERATIONS = schema_operations()


def test_every_endpoint_of_the_schema_has_a_row_in_the_roles_table():
    missing = [f"{method} {path}" for method, path in OPERATIONS if (method, path) not in ROLES_TABLE]
    assert not missing, (
        f"No row in ROLES_TABLE ({ROLES_TABLE_FILE}) for: {', '.join(missing)}. Add what each persona "
        f'({", ".join(PERSONAS)}) gets, e.g. ("GET", "/api/x/"): expect(anon=401, buyer=200, ...).'
    )


def test_every_row_of_the_roles_table_is_an_endpoint_of_the_schema():
    stale = [f"{method} {path}" for method, path in ROLES_TABLE if (method, path) not in OPERATIONS]
    assert not stale, f"Rows in {ROLES_TABLE_FILE} for endpoints the schema no longer has: {', '.join(stale)}"


def test_every_row_names_every_persona():
    incomplete = [f"{method} {path}" for (method, path), row in ROLES_TABLE.items() if set(row) != set(PERSONAS)]
    assert not incomplete, f"Rows in {ROLES_TABLE_FILE} without all of {PERSONAS}: {incomplete}"


@pytest.fixture
def world(db, hoodie_offer):
    """A batch in review (the supplier's) holding one of the buyer's orders, and every persona."""
    batch = batch_in_review(offer=hoodie_offer)
    buyer = _persona("roles-buyer", BUYER)
    _persona("roles-other-buyer", BUYER)
    supplier_user = _persona("roles-supplier", SUPPLIER)
    SupplierMembership.objects.create(user=supplier_user, supplier=batch.supplier)
    _persona("roles-ops", OPS)
    order = PooledOrderFactory(buyer=buyer, product_type=batch.product_type, quantity=4)
    BatchContributionFactory(batch=batch, order=order)
    supplier_order = SupplierOrderFactory(supplier=batch.supplier)
    report = Report.objects.create(
        requested_by=buyer, kind="orders", format="csv", date_from=date(2026, 11, 2), date_to=date(2026, 11, 8),
        scope=BUYER,
    )  # fmt: skip
    notification = Notification.objects.create(
        user=buyer, order=order, kind=Notification.Kind.BATCH_IN_REVIEW, event_key="review", subject="s", body="b"
    )
    return World(
        order_id=str(order.id),
        batch_id=str(batch.id),
        supplier_id=str(batch.supplier_id),
        supplier_order_id=str(supplier_order.id),
        report_id=str(report.pk),
        notification_id=str(notification.id),
    )


def client_as(persona: str) -> APIClient:
    if persona == "anon":
        return APIClient()
    return _client_for(get_user_model().objects.get(username=f"roles-{persona.replace('_', '-')}"))


def concrete_path(path: str, world: World) -> str:
    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in PATH_PARAMETERS:
            pytest.fail(
                f"Path parameter {{{name}}} of {path}: add a maker for it to PATH_PARAMETERS in {ROLES_TABLE_FILE}"
            )
        return PATH_PARAMETERS[name](world)

    return re.sub(r"\{(\w+)\}", fill, path)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_each_persona_gets_what_the_table_says(world, method, path, persona):
    row = ROLES_TABLE.get((method, path))
    if row is None:
        pytest.fail(
            f"{method} {path} has no row in ROLES_TABLE ({ROLES_TABLE_FILE}); add one for {', '.join(PERSONAS)}"
        )

    body = BODIES.get((method, path))
    extra = {} if body is None else {"data": json.dumps(body), "content_type": "application/json"}

    response = client_as(persona).generic(method, concrete_path(path, world), **extra)

    assert response.status_code == row[persona], (
        f"{method} {path} as {persona}: {response.status_code}, the table says {row[persona]} "
        f"({ROLES_TABLE_FILE}); answer: {response.content[:200]!r}"
    )
