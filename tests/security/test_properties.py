"""Property-based tests (hypothesis): the order serializer, the pricing calculator and every write endpoint.

Whatever a client sends: a 2xx with the order stored, or a 4xx JSON answer with a message and
nothing stored; never a 500 or an exception other than a validation error.
"""

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from batches.models import ProductionBatch
from orders.api.serializers import order_submit_validate
from orders.models import Order
from suppliers.models import SupplierOrder
from suppliers.pricing import buyer_unit_price_from_supplier_price, price_at, validate_price_tiers
from tests.batches.factories import batch_in_review
from tests.factories import SupplierFactory
from tests.suppliers.conftest import placed_supplier_order

# Every character, lone surrogates and NUL included; JSON escapes them as \\udXXX and \\u0000.
any_text = st.text(st.characters(exclude_categories=()), max_size=12)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=12,
)

sizes = st.dictionaries(st.sampled_from(["XS", "S", "M", "L", "XL"]) | any_text, st.integers(-3, 60), max_size=4)
style_items = st.fixed_dictionaries(
    {"style": st.sampled_from(["classic", "slim"]) | any_text},
    optional={"color": any_text | st.integers(), "sizes": sizes},
)
# Orders near the valid ones, where the interesting mistakes are.
order_like = st.fixed_dictionaries(
    {},
    optional={
        "product_type": st.sampled_from(["hoodie", "tee"]) | any_text | st.integers(),
        "quantity": st.integers(-5, 20_000) | st.floats(allow_nan=False) | any_text | st.booleans(),
        "style_details": st.lists(style_items, max_size=5) | json_values,
        "extra": json_values,
    },
)
any_body = order_like | json_values
MOVE_FIELDS = {
    "promised_date": st.dates().map(str) | json_values,
    "delivered_units": st.integers(-5, 10**12) | json_values,
    "defective_units": st.integers(-5, 10**12) | json_values,
    "delivered_at": st.datetimes().map(lambda d: d.isoformat()) | json_values,
    "reason": any_text | json_values,
}


@pytest.fixture(autouse=True)
def unthrottled(settings):
    """Hundreds of examples per test from one user: the rate limits are tested elsewhere."""
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(rest["DEFAULT_THROTTLE_RATES"], "100000/min")
    settings.REST_FRAMEWORK = rest


FAST = hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(data=any_body)
def test_the_order_serializer_validates_or_refuses_anything(db, hoodie_offer, data):
    try:
        order = order_submit_validate(data)
    except ValidationError as exc:
        assert exc.detail  # a message for the client, never empty
        return
    assert order["product_type"] == "hoodie"
    assert isinstance(order["quantity"], int) and not isinstance(order["quantity"], bool)
    if any("sizes" in item for item in order["style_details"]):
        assert sum(sum(item["sizes"].values()) for item in order["style_details"]) == order["quantity"]


def response_is_json_with_a_message(response) -> bool:
    return response["Content-Type"].startswith("application/json") and bool(response.json())


@FAST
@given(body=any_body)
def test_posting_any_order_is_a_202_with_the_order_or_a_4xx_with_nothing_stored(
    api_client_for, alice, hoodie_offer, body
):
    client = api_client_for(alice)
    before = Order.objects.count()

    response = client.post("/api/orders/", json.dumps(body), content_type="application/json")

    assert response.status_code in (202, 400), response.content[:300]
    assert response_is_json_with_a_message(response)
    assert Order.objects.count() == before + (1 if response.status_code == 202 else 0)


@FAST
@given(orders=st.lists(order_like, min_size=0, max_size=4) | json_values)
def test_posting_any_bulk_stores_all_or_nothing(api_client_for, alice, hoodie_offer, orders):
    client = api_client_for(alice)
    before = Order.objects.count()

    response = client.post("/api/orders/bulk/", json.dumps({"orders": orders}), content_type="application/json")

    assert response.status_code in (202, 400), response.content[:300]
    assert response_is_json_with_a_message(response)
    stored = Order.objects.count() - before
    assert stored == (len(orders) if response.status_code == 202 else 0)


@FAST
@given(body=json_values | st.fixed_dictionaries({"hours": st.integers(-10, 1000) | json_values}))
@pytest.mark.parametrize("decision", ["approve", "cancel", "extend"])
def test_any_review_decision_body_is_a_200_a_409_or_a_400(api_client_for, olivia, decision, body):
    # No orders (so no buyer per example): factory sequences, and the admin's columns, stay short.
    batch = batch_in_review(orders=0)
    client = api_client_for(olivia)

    response = client.post(f"/api/batches/{batch.id}/{decision}/", json.dumps(body), content_type="application/json")

    assert response.status_code in (200, 400, 409), response.content[:300]
    assert response_is_json_with_a_message(response)
    if response.status_code == 400:
        batch.refresh_from_db()
        assert batch.batch_status == ProductionBatch.Status.ADMIN_REVIEW


numeric_text = st.from_regex(r"\A[-+]?(\d{1,3}(\.\d{0,4})?|NaN|sNaN|Infinity)([eE][-+]?\d{1,7})?\Z")
tier_fields = st.integers(-2, 10**40) | numeric_text | json_values


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    tiers=json_values
    | st.lists(
        st.fixed_dictionaries({"min_quantity": st.integers(1, 1000) | tier_fields, "unit_price": tier_fields}),
        min_size=1,
        max_size=4,
    )
)
def test_price_tier_validation_accepts_or_explains_anything(tiers):
    try:
        parsed = validate_price_tiers(tiers)
    except DjangoValidationError as exc:
        assert exc.messages
        return
    assert parsed[0][0] == 1


prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)


@st.composite
def valid_tiers(draw):
    steps = draw(st.lists(st.integers(1, 500), min_size=0, max_size=5))
    first = draw(prices)
    tiers, quantity, price = [{"min_quantity": 1, "unit_price": str(first)}], 1, first
    for step in steps:
        quantity += step
        price = draw(st.decimals(min_value=Decimal("0.01"), max_value=price, places=2))
        tiers.append({"min_quantity": quantity, "unit_price": str(price)})
    return tiers


@hypothesis_settings(max_examples=300, deadline=None)
@given(tiers=valid_tiers(), quantity=st.integers(1, 5000), more=st.integers(0, 5000))
def test_a_larger_quantity_never_costs_more_per_unit(tiers, quantity, more):
    parsed = validate_price_tiers(tiers)

    assert price_at(parsed, quantity + more) <= price_at(parsed, quantity)
    reached = [Decimal(t["unit_price"]) for t in tiers if t["min_quantity"] <= quantity]
    assert price_at(parsed, quantity) == reached[-1]


@hypothesis_settings(max_examples=300, deadline=None)
@given(supplier_price=prices, styles=st.integers(1, 10))
def test_the_buyer_price_is_in_cents_above_the_supplier_price_and_each_style_adds_the_surcharge(supplier_price, styles):
    one_style = buyer_unit_price_from_supplier_price(supplier_unit_price=supplier_price, style_count=1)
    price = buyer_unit_price_from_supplier_price(supplier_unit_price=supplier_price, style_count=styles)

    assert price == price.quantize(Decimal("0.01"))
    assert one_style >= supplier_price
    assert price - one_style == Decimal("0.50") * (styles - 1)


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values | st.fixed_dictionaries({}, optional=MOVE_FIELDS))
@pytest.mark.parametrize("move", ["acknowledge", "ship", "deliver", "cancel"])
def test_any_supplier_order_move_body_is_a_200_a_409_or_a_400(api_client_for, olivia, move, body):
    supplier_order = placed_supplier_order(SupplierFactory(), orders=1)
    client = api_client_for(olivia)

    response = client.post(
        f"/api/supplier-orders/{supplier_order.id}/{move}/", json.dumps(body), content_type="application/json"
    )

    assert response.status_code in (200, 400, 409), response.content[:300]
    assert response_is_json_with_a_message(response)
    if response.status_code != 200:
        supplier_order.refresh_from_db()
        assert supplier_order.status == SupplierOrder.Status.PLACED


DETAIL_FIELDS = {
    "contact_name": any_text | json_values,
    "contact_phone": st.sampled_from(["+44 20 7946 0958", ""]) | any_text | json_values,
    "bank_account_holder": any_text | json_values,
    "bank_iban": st.sampled_from(["DE89370400440532013000", "DE89370400440532013001", ""]) | any_text | json_values,
    "bank_bic": st.sampled_from(["COBADEFFXXX", "COBADEFF", ""]) | any_text | json_values,
}


@FAST
@given(body=json_values | st.fixed_dictionaries({}, optional=DETAIL_FIELDS))
def test_any_supplier_details_body_is_a_200_with_it_stored_or_a_400_with_nothing(api_client_for, olivia, body):
    supplier = SupplierFactory()
    client = api_client_for(olivia)

    response = client.put(f"/api/suppliers/{supplier.pk}/details/", json.dumps(body), content_type="application/json")

    assert response.status_code in (200, 400), response.content[:300]
    assert response_is_json_with_a_message(response)
    stored = type(supplier).objects.get(pk=supplier.pk)
    if response.status_code == 200:
        assert stored.bank_iban == response.json()["bank_iban"]
    else:
        assert (stored.bank_iban, stored.contact_name) == ("", "")
