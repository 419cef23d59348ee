"""The per-user limit is one count on Redis, however many web processes answer the buyer."""

import http.client
import json
import time

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from bench.load import Gunicorn
from orders.models import Order
from sleekbatch.flags import shared_redis_client
from tests.factories import SupplierOfferFactory
from tests.integration.workers import database_url_for_test_db
from tests.orders.conftest import order_payload

pytestmark = pytest.mark.django_db(transaction=True)


def post_order(server: Gunicorn, token: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    body = json.dumps(order_payload(quantity=12))
    conn.request("POST", "/api/orders/", body, {"Authorization": f"Token {token}", "Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    return response.status, dict(response.getheaders())


def test_two_gunicorns_share_one_buyers_submission_limit(alice, bob, tmp_path):
    # given: two separate web servers (one worker each) on the same database and Redis
    SupplierOfferFactory(product_type="hoodie", max_styles=3)
    alice_token = Token.objects.create(user=alice).key
    bob_token = Token.objects.create(user=bob).key
    client = shared_redis_client()
    for key in client.scan_iter("sleekbatch:throttle:*"):
        client.delete(key)
    if 3600 - time.time() % 3600 < 30:  # the hour's window is about to turn: wait for the next one
        time.sleep(3600 - time.time() % 3600 + 1)
    env = {
        "DATABASE_URL": database_url_for_test_db(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "WEB_WORKERS": "1",
        "SLEEKBATCH_THROTTLE_ORDERS_SUBMIT": "5/hour",
    }
    with Gunicorn(tmp_path / "a.log", env) as server_a, Gunicorn(tmp_path / "b.log", env) as server_b:
        # when: alice posts 8 orders, alternating between the two servers
        answers = [post_order(server, alice_token) for server in [server_a, server_b] * 4]
        bob_status, _ = post_order(server_b, bob_token)

    # then: 5 accepted in all, the rest refused with Retry-After; bob's own limit untouched
    statuses = [status for status, _ in answers]
    assert statuses == [202] * 5 + [429] * 3
    assert all(1 <= int(headers["Retry-After"]) <= 3600 for status, headers in answers if status == 429)
    assert bob_status == 202
    assert Order.objects.filter(buyer=alice).count() == 5
