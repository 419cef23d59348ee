"""Interactive API docs served from our own static files, and DRF's login for the browsable API."""

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_load_every_asset_from_this_server(client, page):
    # when
    response = client.get(page)

    # then: the page, its scripts and styles all from /static/, none from a CDN
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert assets, html[:1000]
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert client.get(asset).status_code == 200, asset
    assert "cdn." not in html and "unpkg" not in html
    assert "/api/schema/" in html


def test_a_buyer_logs_into_the_browsable_api_with_their_password(client, alice):
    # given
    alice.set_password("alice-pass-1")
    alice.save()

    # when
    login = client.post("/api-auth/login/", {"username": "alice", "password": "alice-pass-1", "next": "/api/orders/"})
    orders = client.get("/api/orders/", HTTP_ACCEPT="text/html")

    # then
    assert login.status_code == 302
    assert login["Location"] == "/api/orders/"
    assert orders.status_code == 200
    assert "alice" in orders.content.decode()
