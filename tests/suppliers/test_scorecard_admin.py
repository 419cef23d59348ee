"""The supplier page shows its scorecard and trend chart; alerts are listed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from suppliers.scorecard import suppliers_score
from tests.suppliers.conftest import delivered_order

pytestmark = pytest.mark.django_db


def test_the_supplier_page_shows_the_scorecard_and_a_trend_drawn_without_scripts(client, olivia, dhaka):
    # given: scored on two days
    for _ in range(3):
        delivered_order(dhaka, days_late=4, delivered_at=timezone.now() - timedelta(days=5))
    suppliers_score(now=timezone.now() - timedelta(days=2))
    suppliers_score()
    client.force_login(olivia)

    # when
    page = client.get(f"/admin/suppliers/supplier/{dhaka.id}/change/").content.decode()

    # then
    assert "<th>Score</th><td>60.00</td>" in page
    assert "<th>Standing</th><td>good</td>" in page
    assert "<th>On-time rate</th><td>0.0%</td>" in page
    assert "<th>Deliveries counted</th><td>3</td>" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page
    assert page.count('<circle cx="') == 2
    assert "<polyline" in page
    assert "cdn" not in page.lower()


def test_a_supplier_never_scored_says_so(client, olivia, dhaka):
    client.force_login(olivia)
    page = client.get(f"/admin/suppliers/supplier/{dhaka.id}/change/").content.decode()
    assert "Not scored yet" in page


def test_ops_see_supplier_alerts_and_the_supplier_list_scores(client, olivia, dhaka, settings):
    # given
    settings.SUPPLIER_ALERT_ON_TIME_BELOW = 0.8
    for _ in range(3):
        delivered_order(dhaka, days_late=4)
    suppliers_score()
    client.force_login(olivia)

    # when
    alerts = client.get("/admin/suppliers/supplieralert/")
    suppliers = client.get("/admin/suppliers/supplier/")

    # then
    assert alerts.status_code == 200
    assert "Dhaka Knits: on-time rate 0% is under 80%" in alerts.content.decode()
    assert "60.00" in suppliers.content.decode()
