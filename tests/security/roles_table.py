"""Who may call what: ONE table, read by tests/security/test_roles_table.py.

Every operation of the OpenAPI schema (``/api/schema/``) needs a row here; the test calls
each one as each persona and compares the status code. When you add an endpoint:

1. add a row to ROLES_TABLE: ``("METHOD", "/path/{param}/"): expect(anon=…, buyer=…,
   other_buyer=…, supplier=…, ops=…)`` — the path exactly as the schema spells it;
2. a POST/PUT/PATCH that needs a body: add it to BODIES (a body the allowed roles succeed with);
3. a new path parameter: add a maker to PATH_PARAMETERS (``World`` → the value).

The personas, all made fresh for each call (see World):
  anon         no token
  buyer        a buyer whose order sits in a batch in admin review
  other_buyer  another buyer, with no order of their own there
  supplier     a supplier's user (member of the batch's supplier, which has a placed supplier order)
  ops          operations staff
"""

from dataclasses import dataclass

from tests.orders.conftest import order_payload

PERSONAS = ("anon", "buyer", "other_buyer", "supplier", "ops")


def expect(*, anon: int, buyer: int, other_buyer: int, supplier: int, ops: int) -> dict[str, int]:
    return {"anon": anon, "buyer": buyer, "other_buyer": other_buyer, "supplier": supplier, "ops": ops}


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(PERSONAS, status)


OPS_ONLY = expect(anon=401, buyer=403, other_buyer=403, supplier=403, ops=200)
SUPPLIER_OR_OPS = expect(anon=401, buyer=403, other_buyer=403, supplier=200, ops=200)
SIGNED_IN = expect(anon=401, buyer=200, other_buyer=200, supplier=200, ops=200)

ROLES_TABLE: dict[tuple[str, str], dict[str, int]] = {
    # Orders: buyers submit and read their own; ops read all; another buyer's order is a 404.
    ("GET", "/api/orders/"): expect(anon=401, buyer=200, other_buyer=200, supplier=403, ops=200),
    ("POST", "/api/orders/"): expect(anon=401, buyer=202, other_buyer=202, supplier=403, ops=403),
    ("POST", "/api/orders/bulk/"): expect(anon=401, buyer=202, other_buyer=202, supplier=403, ops=403),
    ("GET", "/api/orders/{order_id}/"): expect(anon=401, buyer=200, other_buyer=404, supplier=403, ops=200),
    # Batches: ops all, a buyer those holding their orders; review decisions are ops only.
    ("GET", "/api/batches/"): expect(anon=401, buyer=200, other_buyer=200, supplier=403, ops=200),
    ("GET", "/api/batches/{batch_id}/"): expect(anon=401, buyer=200, other_buyer=404, supplier=403, ops=200),
    ("POST", "/api/batches/{batch_id}/approve/"): OPS_ONLY,
    ("POST", "/api/batches/{batch_id}/cancel/"): OPS_ONLY,
    ("POST", "/api/batches/{batch_id}/extend/"): OPS_ONLY,
    # Supplier orders: a supplier's users work their own supplier's (the world's is placed, so
    # shipping or delivering it is out of order: 409 once the role may act); ops see all and cancel.
    ("GET", "/api/supplier-orders/"): SUPPLIER_OR_OPS,
    ("GET", "/api/supplier-orders/{supplier_order_id}/"): SUPPLIER_OR_OPS,
    ("POST", "/api/supplier-orders/{supplier_order_id}/acknowledge/"): SUPPLIER_OR_OPS,
    ("POST", "/api/supplier-orders/{supplier_order_id}/ship/"): expect(
        anon=401, buyer=403, other_buyer=403, supplier=409, ops=409
    ),
    ("POST", "/api/supplier-orders/{supplier_order_id}/deliver/"): expect(
        anon=401, buyer=403, other_buyer=403, supplier=409, ops=409
    ),
    ("POST", "/api/supplier-orders/{supplier_order_id}/cancel/"): OPS_ONLY,
    # Supplier performance: ops, and that supplier's users.
    ("GET", "/api/suppliers/{supplier_id}/performance/"): SUPPLIER_OR_OPS,
    # Supplier contact and bank details (encrypted at rest): ops, and that supplier's users.
    ("GET", "/api/suppliers/{supplier_id}/details/"): SUPPLIER_OR_OPS,
    ("PUT", "/api/suppliers/{supplier_id}/details/"): SUPPLIER_OR_OPS,
    # Monitoring and analytics: ops (and the Prometheus scraper's own token).
    ("GET", "/api/metrics/jobs/"): OPS_ONLY,
    ("GET", "/api/analytics/daily/"): OPS_ONLY,
    ("GET", "/api/analytics/dashboard/"): OPS_ONLY,
    ("GET", "/metrics"): OPS_ONLY,
    # Reports: buyers the orders kind (their own orders), ops every kind; a supplier user the
    # supplier kinds only; another user's report is a 404; the world's report is still queued (409).
    ("GET", "/api/reports/"): expect(anon=401, buyer=200, other_buyer=200, supplier=200, ops=200),
    ("POST", "/api/reports/"): expect(anon=401, buyer=202, other_buyer=202, supplier=403, ops=202),
    ("GET", "/api/reports/{report_id}/"): expect(anon=401, buyer=200, other_buyer=404, supplier=404, ops=200),
    ("GET", "/api/reports/{report_id}/download/"): expect(anon=401, buyer=409, other_buyer=404, supplier=404, ops=409),
    # Notifications: every user reads and marks their own; another user's is a 404.
    ("GET", "/api/notifications/"): SIGNED_IN,
    ("POST", "/api/notifications/{notification_id}/read/"): expect(
        anon=401, buyer=200, other_buyer=404, supplier=404, ops=404
    ),
    ("POST", "/api/notifications/read-all/"): SIGNED_IN,
    ("GET", "/api/notifications/email-preferences/"): SIGNED_IN,
    ("PATCH", "/api/notifications/email-preferences/"): SIGNED_IN,
    # Public.
    ("GET", "/api/health/"): everyone(200),
    ("GET", "/api/schema/"): everyone(200),
}


BODIES: dict[tuple[str, str], object] = {
    ("POST", "/api/orders/"): order_payload(),
    ("POST", "/api/orders/bulk/"): {
        "orders": [order_payload(), order_payload(quantity=6, style_details=[{"style": "a"}])]
    },
    ("POST", "/api/batches/{batch_id}/extend/"): {"hours": 24},
    ("PUT", "/api/suppliers/{supplier_id}/details/"): {
        "contact_name": "Rahima Akter",
        "contact_phone": "+880 2 5505 1234",
        "bank_account_holder": "Dhaka Knits Ltd",
        "bank_iban": "DE89370400440532013000",
        "bank_bic": "COBADEFFXXX",
    },
    ("POST", "/api/supplier-orders/{supplier_order_id}/deliver/"): {"delivered_units": 100},
    ("POST", "/api/reports/"): {"kind": "orders", "format": "csv", "date_from": "2026-11-02", "date_to": "2026-11-08"},
    ("PATCH", "/api/notifications/email-preferences/"): {"order_refunded": False},
}


@dataclass
class World:
    """The objects path parameters point at (made by the test for each call)."""

    order_id: str
    batch_id: str
    supplier_id: str
    supplier_order_id: str
    report_id: str  # the buyer's orders report, queued
    notification_id: str


PATH_PARAMETERS = {
    "order_id": lambda world: world.order_id,
    "batch_id": lambda world: world.batch_id,
    "supplier_id": lambda world: world.supplier_id,
    "supplier_order_id": lambda world: world.supplier_order_id,
    "report_id": lambda world: world.report_id,
    "notification_id": lambda world: world.notification_id,
}
