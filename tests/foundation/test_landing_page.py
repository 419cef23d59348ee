"""The landing page at /: where to go next."""

import pytest

from tests.batches.factories import batch_in_review

pytestmark = pytest.mark.django_db


def test_ops_see_the_dashboard_the_review_queue_with_its_length_the_admin_docs_and_flower(client, olivia):
    # given: two batches wait for a decision
    batch_in_review(60)
    batch_in_review(55)
    client.force_login(olivia)

    # when
    page = client.get("/").content.decode()

    # then
    for href in ("/ops/dashboard/", "/admin/batches/batchinreview/", "/admin/", "/api/docs/", "/api/redoc/"):
        assert f'href="{href}"' in page, href
    assert 'href="http://127.0.0.1:5555/"' in page
    assert '<span class="count">2</span>' in page


def test_anyone_else_sees_the_api_docs_and_the_logins(client):
    # when
    response = client.get("/")

    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert 'href="/api/docs/"' in page
    assert 'href="/api-auth/login/?next=/api/orders/"' in page
    assert 'href="/admin/login/?next=/"' in page
    for ops_only in ("/admin/batches/batchinreview/", "/ops/dashboard/", "5555"):
        assert ops_only not in page


def test_a_signed_in_buyer_gets_their_orders_and_notifications(client, alice):
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert 'href="/api/orders/"' in page
    assert 'href="/api/notifications/"' in page
    assert "/admin/batches/batchinreview/" not in page
