"""What an attacker sends to the API: each is a 4xx JSON answer with a clear message and nothing stored."""

import base64
import io
import json

import pytest
from django.core import mail
from rest_framework.exceptions import ParseError

from orders.models import Order
from sleekbatch.parsers import MAX_JSON_DEPTH, StrictJSONParser
from tests.orders.conftest import order_payload

ORDERS = "/api/orders/"
BULK = "/api/orders/bulk/"


def post_raw(client, url, body: str | bytes, **headers):
    return client.generic("POST", url, body, content_type="application/json", **headers)


def assert_refused(response, status=400, says=""):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    detail = json.dumps(response.json())
    assert says in detail, detail


NESTED_BODIES = {
    "5,000 opening brackets": "[" * 5000,
    "5,000 nested objects": '{"a":' * 5000,
    "a closed list 200 deep": "[" * 200 + "]" * 200,
    "an order whose style nests 40 deep": json.dumps(
        order_payload(style_details=[{"style": "x", "color": json.loads("[" * 40 + "]" * 40)}])
    ),
}


@pytest.mark.parametrize("body", NESTED_BODIES.values(), ids=NESTED_BODIES.keys())
def test_deeply_nested_json_is_a_400_not_a_recursion_error(api_client_for, alice, hoodie_offer, body):
    response = post_raw(api_client_for(alice), ORDERS, body)

    assert_refused(response, says="nested deeper than")
    assert not Order.objects.exists()


TEXT_THAT_CANNOT_BE_STORED = {
    "a lone surrogate as a size label": '"sizes": {"\\ud800": 12}',
    "a NUL in a size label": '"sizes": {"M\\u0000": 12}',
    "a lone surrogate as a size label's neighbour": '"color": "navy\\udfff", "sizes": {"M": 12}',
    "a NUL in a color": '"color": "na\\u0000vy", "sizes": {"M": 12}',
}


@pytest.mark.parametrize("fragment", TEXT_THAT_CANNOT_BE_STORED.values(), ids=TEXT_THAT_CANNOT_BE_STORED.keys())
@pytest.mark.parametrize("with_idempotency_key", [False, True], ids=["no key", "with Idempotency-Key"])
def test_text_postgres_cannot_store_is_a_400(api_client_for, alice, hoodie_offer, fragment, with_idempotency_key):
    body = '{"product_type": "hoodie", "quantity": 12, "style_details": [{"style": "classic", ' + fragment + "}]}"
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-1"} if with_idempotency_key else {}

    response = post_raw(api_client_for(alice), ORDERS, body, **headers)

    assert_refused(response, says="JSON parse error")
    assert not Order.objects.exists()


def test_a_lone_surrogate_in_a_bulk_order_is_a_400(api_client_for, alice, hoodie_offer):
    body = '{"orders": [{"product_type": "hoodie", "quantity": 12, "style_details": [{"style": "\\ud800"}]}]}'

    assert_refused(post_raw(api_client_for(alice), BULK, body), says="surrogate")
    assert not Order.objects.exists()


def test_a_raw_nul_character_or_encoded_surrogate_is_a_400_without_any_escape(api_client_for, alice, hoodie_offer):
    # The parser skips its walk over the values when the body has no \\u escape: these must still fail.
    client = api_client_for(alice)
    raw_nul = '{"product_type": "hoodie", "quantity": 12, "style_details": [{"style": "cla\x00ssic"}]}'
    encoded_surrogate = raw_nul.replace("\x00", "").encode().replace(b"classic", b"cla\xed\xa0\x80ssic")

    assert_refused(post_raw(client, ORDERS, raw_nul), says="JSON parse error")
    assert_refused(post_raw(client, ORDERS, encoded_surrogate), says="not valid UTF-8")
    assert not Order.objects.exists()


@pytest.mark.parametrize("depth, accepted", [(MAX_JSON_DEPTH, True), (MAX_JSON_DEPTH + 1, False)])
def test_the_parser_takes_json_up_to_its_depth_limit(depth, accepted):
    body = ("[" * depth + '"plain text, no escapes: é ✓"' + "]" * depth).encode()

    if accepted:
        assert StrictJSONParser().parse(io.BytesIO(body)) is not None
    else:
        with pytest.raises(ParseError, match="nested deeper than"):
            StrictJSONParser().parse(io.BytesIO(body))


def test_duplicate_keys_are_refused_not_last_one_wins(api_client_for, alice, hoodie_offer):
    body = '{"product_type": "hoodie", "quantity": 12, "quantity": 9999, "style_details": [{"style": "classic"}]}'

    response = post_raw(api_client_for(alice), ORDERS, body)

    assert_refused(response, says="duplicate key 'quantity'")
    assert not Order.objects.exists()


def test_duplicate_keys_inside_sizes_are_refused(api_client_for, alice, hoodie_offer):
    body = (
        '{"product_type": "hoodie", "quantity": 12,'
        ' "style_details": [{"style": "classic", "sizes": {"M": 6, "M": 12}}]}'
    )

    assert_refused(post_raw(api_client_for(alice), ORDERS, body), says="duplicate key 'M'")


@pytest.mark.parametrize("body", ["NaN", '{"quantity": Infinity}', '{"quantity": -Infinity}'])
def test_non_finite_numbers_are_refused(api_client_for, alice, body):
    assert_refused(post_raw(api_client_for(alice), ORDERS, body), says="is not a JSON number")


def test_a_body_that_is_not_utf8_is_a_400(api_client_for, alice):
    assert_refused(post_raw(api_client_for(alice), ORDERS, b'{"product_type": "\xff"}'), says="not valid UTF-8")


def test_a_body_over_the_limit_is_a_413_json_answer(api_client_for, alice, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps(order_payload(style_details=[{"style": "x" * 2000}]))

    response = post_raw(api_client_for(alice), ORDERS, body)

    assert_refused(response, status=413, says="larger than 1000 bytes")
    assert not Order.objects.exists()


def forged_cursor(position: str) -> str:
    return base64.b64encode(f"o=0&r=0&p={position}".encode()).decode()


@pytest.mark.parametrize("url", ["/api/orders/", "/api/batches/"])
@pytest.mark.parametrize(
    "cursor",
    [forged_cursor("notadate"), forged_cursor("2026-13-45 99:00:00"), "!!not-base64!!", "w6k="],
    ids=["position not a date", "impossible date", "not base64", "not ascii inside"],
)
def test_a_forged_cursor_is_a_400(api_client_for, olivia, url, cursor):
    response = api_client_for(olivia).get(url, {"cursor": cursor})

    assert_refused(response, says="Invalid cursor")


def test_a_genuine_cursor_still_pages(api_client_for, olivia):
    from tests.factories import OrderFactory

    OrderFactory.create_batch(3)
    client = api_client_for(olivia)
    first = client.get(ORDERS, {"page_size": 2}).json()

    second = client.get(first["next"])

    assert second.status_code == 200
    assert len(second.json()["results"]) == 1


@pytest.mark.parametrize(
    "path",
    ["/api/orders/not-a-uuid/", "/api/batches/1/", "/api/batches/xyz/approve/", "/api/nothing-here/"],
)
def test_a_path_no_url_matches_is_a_json_404(api_client_for, alice, path):
    response = api_client_for(alice).get(path)

    assert_refused(response, status=404, says="Not found.")


def test_a_foreign_host_is_a_json_400_and_mails_nobody(client, settings):
    settings.ADMINS = [("Ops", "ops@example.com")]
    response = client.get("/api/orders/", HTTP_HOST="evil.example")

    assert_refused(response, status=400, says="Bad request.")
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_server_error_under_api_is_json_with_the_correlation_id(monkeypatch, api_client_for, olivia):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("batches.api.views.batches_visible_to", explode)
    client = api_client_for(olivia)
    client.raise_request_exception = False

    response = client.get("/api/batches/", HTTP_X_REQUEST_ID="req-500")

    assert_refused(response, status=500, says="correlation id req-500")
    assert response["X-Request-ID"] == "req-500"


def test_pages_outside_the_api_keep_django_html_errors(client, db):
    response = client.get("/nothing-here/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
