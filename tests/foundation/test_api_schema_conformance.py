"""Real responses of every endpoint, checked against the OpenAPI schema the server publishes.

Each scenario below makes one real request and validates the JSON body against the schema of
the status code it got; a status the schema does not document fails too. Objects are checked
strictly (no undocumented fields), so a field added to a response without its serializer
(or a schema that promises a field the response lacks) fails here. Every operation of the
schema needs at least one successful scenario: a new endpoint without one fails
``test_every_operation_has_a_successful_scenario``.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

import jsonschema
import pytest
from django.utils import timezone

from analytics.reports.models import Report
from orders.models import Notification
from suppliers.models import SupplierOrder
from tests.batches.factories import PooledOrderFactory, batch_filled_to, batch_in_review
from tests.factories import BatchContributionFactory, SupplierOfferFactory

pytestmark = pytest.mark.django_db

DETAILS = {
    "contact_name": "Rahima Akter",
    "contact_phone": "+880 2 5505 1234",
    "bank_account_holder": "Dhaka Knits Ltd",
    "bank_iban": "DE89 3704 0044 0532 0130 00",
    "bank_bic": "COBADEFFXXX",
}
ORDER = {"product_type": "hoodie", "quantity": 24, "style_details": [{"style": "classic", "color": "navy"}]}


@dataclass
class Scenario:
    method: str
    path: str  # the schema's template, such as /api/orders/{order_id}/
    who: str | None  # a persona fixture name, or None for no credentials
    status: int
    params: dict = field(default_factory=dict)  # path parameters, by name of a world attribute
    query: dict = field(default_factory=dict)
    body: object = None
    headers: dict = field(default_factory=dict)
    before: tuple = ()  # requests to make first (same method, path, body), e.g. a first POST

    @property
    def id(self):
        extra = ",".join(f"{k}={v}" for k, v in self.query.items())
        return f"{self.method.upper()} {self.path} {self.who or 'anon'} {self.status} {extra}".strip()


S = Scenario
SCENARIOS = [
    S("get", "/api/health/", None, 200),
    S("get", "/api/schema/", None, 200),
    # orders
    S("get", "/api/orders/", "alice", 200),
    S("get", "/api/orders/", "olivia", 200),
    S("get", "/api/orders/", "alice", 400, query={"status": "lost"}),
    S("get", "/api/orders/", "sam", 403),
    S("post", "/api/orders/", "alice", 202, body=ORDER),
    S("post", "/api/orders/", "alice", 200, body=ORDER, headers={"Idempotency-Key": "k1"}, before=("same",)),
    S("post", "/api/orders/", "alice", 409, body=ORDER, headers={"Idempotency-Key": "k1"}, before=("other",)),
    S("post", "/api/orders/", "alice", 400, body={**ORDER, "quantity": 0}),
    S("post", "/api/orders/", "olivia", 403, body=ORDER),
    S("post", "/api/orders/bulk/", "alice", 202, body={"orders": [ORDER, ORDER]}),
    S("post", "/api/orders/bulk/", "alice", 400, body={"orders": [ORDER, {**ORDER, "product_type": "kilt"}]}),
    S("post", "/api/orders/bulk/", "alice", 400, body={"orders": [ORDER] * 1001}),
    S("post", "/api/orders/bulk/", "olivia", 403, body={"orders": [ORDER]}),
    S("get", "/api/orders/{order_id}/", "alice", 200, params={"order_id": "confirmed_order"}),
    S("get", "/api/orders/{order_id}/", "alice", 200, params={"order_id": "refunded_order"}),
    S("get", "/api/orders/{order_id}/", "olivia", 200, params={"order_id": "confirmed_order"}),
    S("get", "/api/orders/{order_id}/", "bob", 404, params={"order_id": "confirmed_order"}),
    S("get", "/api/orders/{order_id}/", "sam", 403, params={"order_id": "confirmed_order"}),
    # batches
    S("get", "/api/batches/", "olivia", 200),
    S("get", "/api/batches/", "alice", 200),
    S("get", "/api/batches/", "olivia", 400, query={"status": "lost"}),
    S("get", "/api/batches/", "sam", 403),
    S("get", "/api/batches/{batch_id}/", "olivia", 200, params={"batch_id": "review_batch"}),
    S("get", "/api/batches/{batch_id}/", "alice", 200, params={"batch_id": "confirmed_batch"}),
    S("get", "/api/batches/{batch_id}/", "bob", 404, params={"batch_id": "confirmed_batch"}),
    S("post", "/api/batches/{batch_id}/approve/", "olivia", 200, params={"batch_id": "review_batch"}),
    S("post", "/api/batches/{batch_id}/approve/", "olivia", 409, params={"batch_id": "confirmed_batch"}),
    S("post", "/api/batches/{batch_id}/approve/", "olivia", 404, params={"batch_id": "missing"}),
    S("post", "/api/batches/{batch_id}/approve/", "alice", 403, params={"batch_id": "review_batch"}),
    S("post", "/api/batches/{batch_id}/cancel/", "olivia", 200, params={"batch_id": "review_batch"}),
    S("post", "/api/batches/{batch_id}/cancel/", "olivia", 409, params={"batch_id": "confirmed_batch"}),
    S("post", "/api/batches/{batch_id}/extend/", "olivia", 200, params={"batch_id": "review_batch"}, body={"hours": 6}),
    S("post", "/api/batches/{batch_id}/extend/", "olivia", 400, params={"batch_id": "review_batch"}, body={"hours": 0}),
    S(
        "post",
        "/api/batches/{batch_id}/extend/",
        "olivia",
        409,
        params={"batch_id": "confirmed_batch"},
        body={"hours": 6},
    ),
    # notifications
    S("get", "/api/notifications/", "alice", 200),
    S("get", "/api/notifications/", "alice", 200, query={"unread": "true"}),
    S("get", "/api/notifications/", "alice", 400, query={"unread": "maybe"}),
    S("post", "/api/notifications/{notification_id}/read/", "alice", 200, params={"notification_id": "notification"}),
    S("post", "/api/notifications/{notification_id}/read/", "bob", 404, params={"notification_id": "notification"}),
    S("post", "/api/notifications/read-all/", "alice", 200),
    S("get", "/api/notifications/email-preferences/", "alice", 200),
    S("patch", "/api/notifications/email-preferences/", "alice", 200, body={"order_refunded": False}),
    S("patch", "/api/notifications/email-preferences/", "alice", 400, body={"order_lost": False}),
    # analytics
    S("get", "/api/metrics/jobs/", "olivia", 200),
    S("get", "/api/metrics/jobs/", "olivia", 400, query={"since": "not-a-time"}),
    S("get", "/api/metrics/jobs/", "alice", 403),
    S("get", "/api/analytics/daily/", "olivia", 200),
    S("get", "/api/analytics/daily/", "olivia", 400, query={"to": "yesterday"}),
    S("get", "/api/analytics/daily/", "alice", 403),
    S("get", "/api/analytics/dashboard/", "olivia", 200),
    S("get", "/api/analytics/dashboard/", "alice", 403),
    # supplier orders
    S("get", "/api/supplier-orders/", "olivia", 200),
    S("get", "/api/supplier-orders/", "olivia", 400, query={"status": "lost"}),
    S("get", "/api/supplier-orders/", "alice", 403),
    S("get", "/api/supplier-orders/{supplier_order_id}/", "olivia", 200, params={"supplier_order_id": "placed"}),
    S("get", "/api/supplier-orders/{supplier_order_id}/", "sam", 404, params={"supplier_order_id": "placed"}),
    S(
        "post",
        "/api/supplier-orders/{supplier_order_id}/acknowledge/",
        "olivia",
        200,
        params={"supplier_order_id": "placed"},
        body={},
    ),
    S(
        "post",
        "/api/supplier-orders/{supplier_order_id}/acknowledge/",
        "olivia",
        409,
        params={"supplier_order_id": "shipped"},
        body={},
    ),
    S(
        "post",
        "/api/supplier-orders/{supplier_order_id}/ship/",
        "olivia",
        200,
        params={"supplier_order_id": "acknowledged"},
    ),
    S(
        "post",
        "/api/supplier-orders/{supplier_order_id}/deliver/",
        "olivia",
        200,
        params={"supplier_order_id": "shipped"},
        body={"delivered_units": 80, "defective_units": 1},
    ),
    S(
        "post",
        "/api/supplier-orders/{supplier_order_id}/deliver/",
        "olivia",
        400,
        params={"supplier_order_id": "shipped"},
        body={"delivered_units": "many"},
    ),
    S(
        "post",
        "/api/supplier-orders/{supplier_order_id}/cancel/",
        "olivia",
        200,
        params={"supplier_order_id": "placed"},
        body={"reason": "supplier closed"},
    ),
    S(
        "post",
        "/api/supplier-orders/{supplier_order_id}/cancel/",
        "alice",
        403,
        params={"supplier_order_id": "placed"},
        body={},
    ),
    # reports
    S("get", "/api/reports/", "alice", 200),
    S(
        "post",
        "/api/reports/",
        "alice",
        202,
        body={"kind": "orders", "format": "csv", "date_from": "2026-11-02", "date_to": "2026-11-08"},
    ),
    S("post", "/api/reports/", "alice", 400, body={"kind": "orders", "format": "doc"}),
    S(
        "post",
        "/api/reports/",
        "olivia",
        202,
        body={"kind": "suppliers", "format": "pdf", "date_from": "2026-11-02", "date_to": "2026-11-08"},
    ),
    S(
        "post",
        "/api/reports/",
        "alice",
        403,
        body={"kind": "suppliers", "format": "csv", "date_from": "2026-11-02", "date_to": "2026-11-08"},
    ),
    S("get", "/api/reports/{report_id}/", "alice", 200, params={"report_id": "report"}),
    S("get", "/api/reports/{report_id}/", "bob", 404, params={"report_id": "report"}),
    S("get", "/api/reports/{report_id}/download/", "alice", 409, params={"report_id": "report"}),
    S("get", "/api/reports/{report_id}/download/", "bob", 404, params={"report_id": "report"}),
    S("get", "/api/suppliers/{supplier_id}/performance/", "olivia", 200, params={"supplier_id": "supplier"}),
    S("get", "/api/suppliers/{supplier_id}/performance/", "alice", 403, params={"supplier_id": "supplier"}),
    S("get", "/api/suppliers/{supplier_id}/details/", "olivia", 200, params={"supplier_id": "supplier"}),
    S("get", "/api/suppliers/{supplier_id}/details/", "alice", 403, params={"supplier_id": "supplier"}),
    S("put", "/api/suppliers/{supplier_id}/details/", "olivia", 200, params={"supplier_id": "supplier"}, body=DETAILS),
    S(
        "put",
        "/api/suppliers/{supplier_id}/details/",
        "olivia",
        400,
        params={"supplier_id": "supplier"},
        body={**DETAILS, "bank_iban": "DE89370400440532013001"},
    ),
    S("get", "/metrics", "olivia", 200),
    S("get", "/metrics", "alice", 403),
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


class World:
    """The objects scenarios point at: alice's orders in every state, batches in review and confirmed."""

    def __init__(self, alice):
        SupplierOfferFactory(product_type="hoodie", moq=300)
        self.review_batch = batch_in_review(60).id
        confirmed = batch_filled_to(80, batch_status="confirmed", confirmed_at=timezone.now())
        self.confirmed_batch = confirmed.id
        self.supplier = confirmed.supplier_id
        order = PooledOrderFactory(buyer=alice, quantity=10, workflow_status="confirmed")
        BatchContributionFactory(batch=confirmed, order=order)
        SupplierOrder.objects.create(
            order_number="SO-TEST-1",
            supplier=confirmed.supplier,
            batch=confirmed,
            product_type=confirmed.product_type,
            quantity=80,
            supplier_price="10.00",
            promised_date=(timezone.now() + timedelta(days=14)).date(),
        )
        self.confirmed_order = order.id
        refunded = PooledOrderFactory(buyer=alice, quantity=12, workflow_status="refunded")
        from orders.models import Refund

        Refund.objects.create(order=refunded, amount=refunded.total_price, reason="Batch cancelled")
        self.refunded_order = refunded.id
        self.missing = "00000000-0000-0000-0000-000000000000"
        now = timezone.now()
        for status, stamps in [
            ("placed", {}),
            ("acknowledged", {"acknowledged_at": now}),
            ("shipped", {"acknowledged_at": now, "shipped_at": now}),
        ]:
            batch = batch_filled_to(80, batch_status="confirmed", confirmed_at=now)
            supplier_order = SupplierOrder.objects.create(
                order_number=f"SO-TEST-{status}",
                supplier=batch.supplier,
                batch=batch,
                product_type=batch.product_type,
                quantity=80,
                supplier_price="10.00",
                status=status,
                promised_date=(now + timedelta(days=14)).date(),
                **stamps,
            )
            setattr(self, status, supplier_order.id)
        self.report = Report.objects.create(
            requested_by=alice,
            kind="orders",
            format="csv",
            date_from=date(2026, 11, 2),
            date_to=date(2026, 11, 8),
            scope="buyer",
        ).pk
        self.notification = Notification.objects.create(
            user=alice,
            order=order,
            kind=Notification.Kind.ORDER_CONFIRMED,
            event_key="order_confirmed",
            subject="Your order is confirmed",
            body="…",
        ).id


def to_json_schema(node, components):
    """OpenAPI 3.0 → JSON Schema: refs inlined, ``nullable`` as a null alternative, objects strict."""
    if isinstance(node, list):
        return [to_json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return to_json_schema(components[node["$ref"].rsplit("/", 1)[1]], components)
    out = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: to_json_schema(sub, components) for name, sub in value.items()}
        elif key not in ("readOnly", "writeOnly", "example", "examples", "description", "nullable"):
            out[key] = to_json_schema(value, components)
    if out.get("type") == "object" and "properties" in out:
        out.setdefault("additionalProperties", False)
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def _request(client, scenario, world, body=None, headers=None):
    path = scenario.path
    for name, attribute in scenario.params.items():
        path = path.replace("{" + name + "}", str(getattr(world, attribute)))
    call = getattr(client, scenario.method)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or scenario.headers).items()}
    if scenario.method == "get":
        return call(path, scenario.query, **extra)
    return call(path, body if body is not None else scenario.body, format="json", **extra)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_real_responses_match_the_schema(
    scenario, schema, request, alice, bob, olivia, sam, anon_client, api_client_for
):
    # given
    world = World(alice)
    client = api_client_for(request.getfixturevalue(scenario.who)) if scenario.who else anon_client
    for kind in scenario.before:
        first = ORDER if kind == "same" else {**ORDER, "quantity": 30}
        assert _request(client, scenario, world, body=first).status_code == 202

    # when
    response = _request(client, scenario, world)

    # then
    assert response.status_code == scenario.status, response.content[:500]
    operation = schema["paths"][scenario.path][scenario.method]
    documented = operation["responses"]
    assert str(response.status_code) in documented, f"{scenario.id}: status not in the schema ({sorted(documented)})"
    content = documented[str(response.status_code)].get("content", {})
    content_type = response["Content-Type"].split(";")[0].strip()
    if content_type != "application/json":  # the schema document itself, Prometheus text
        assert content_type in content, f"{scenario.id}: {content_type} not among {sorted(content)}"
        return
    media = content.get("application/json")
    assert media is not None, f"{scenario.id}: the schema documents no JSON body"
    body_schema = to_json_schema(media["schema"], schema["components"]["schemas"])
    jsonschema.validate(response.json(), body_schema)


# Operations whose success is not a JSON answer worth a scenario here, and why.
WITHOUT_SUCCESS_SCENARIO = {
    ("get", "/api/reports/{report_id}/download/"): "a file once generated; its JSON refusals are checked",
}


def test_every_operation_has_a_successful_scenario(schema):
    covered = {(s.method, s.path) for s in SCENARIOS if 200 <= s.status < 300} | set(WITHOUT_SUCCESS_SCENARIO)
    operations = {(method, path) for path, item in schema["paths"].items() for method in item}
    assert operations - covered == set(), "add a scenario for each new endpoint"


def test_every_authenticated_operation_answers_401_as_documented(schema, anon_client):
    # given: no credentials
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if not operation.get("security") or {} in operation["security"]:
                continue  # open to anyone
            kinds = {p["name"]: p["schema"].get("type") for p in operation.get("parameters", []) if p["in"] == "path"}
            concrete = path
            for name, kind in kinds.items():
                concrete = concrete.replace(
                    "{" + name + "}", "1" if kind == "integer" else "00000000-0000-0000-0000-000000000001"
                )

            # when
            response = getattr(anon_client, method)(concrete)

            # then
            assert response.status_code == 401, f"{method} {path}"
            body_schema = to_json_schema(
                operation["responses"]["401"]["content"]["application/json"]["schema"],
                schema["components"]["schemas"],
            )
            jsonschema.validate(response.json(), body_schema)


def test_the_schema_documents_the_real_bulk_limit_and_the_page_envelope(schema, settings):
    components = schema["components"]["schemas"]
    bulk = components["OrderBulkSubmitRequest"]["properties"]["orders"]
    assert bulk["maxItems"] == settings.ORDER_BULK_MAX
    page = components["OrderPage"]
    assert set(page["properties"]) == {"next", "previous", "results"}
    accepted = schema["paths"]["/api/orders/bulk/"]["post"]["responses"]["202"]["content"]["application/json"]
    assert to_json_schema(accepted["schema"], components)["required"] == ["orders"]
