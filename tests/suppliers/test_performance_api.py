"""GET /api/suppliers/{id}/performance/: the current scorecard and its daily history."""

from datetime import timedelta

import pytest
from django.utils import timezone

from suppliers.scorecard import suppliers_score
from tests.suppliers.conftest import delivered_order

pytestmark = pytest.mark.django_db


def _url(supplier, days=None):
    return f"/api/suppliers/{supplier.id}/performance/" + (f"?days={days}" if days is not None else "")


def test_ops_see_the_score_its_parts_and_the_daily_history(api_client_for, olivia, dhaka):
    # given: scored three days ago (two deliveries: new), then today (four deliveries, one late):
    # on time 0.75 × 40 + quality (1 - 5,000 / 50,000) × 30 + fill 20 + responsiveness 10 = 87
    delivered_order(dhaka, delivered_at=timezone.now() - timedelta(days=5))
    delivered_order(dhaka, delivered_at=timezone.now() - timedelta(days=4))
    suppliers_score(now=timezone.now() - timedelta(days=3))
    delivered_order(dhaka, days_late=4)
    delivered_order(dhaka, defective_units=2)
    suppliers_score()

    # when
    response = api_client_for(olivia).get(_url(dhaka, days=7))

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["supplier"] == {"id": dhaka.id, "code": "dhaka-knits", "name": "Dhaka Knits"}
    assert (body["as_of"], body["window_days"]) == (timezone.localdate().isoformat(), 90)
    assert (body["score"], body["standing"], body["orders_counted"]) == ("87.00", "excellent", 4)
    assert body["on_time_rate"] == 0.75
    assert body["defect_ppm"] == 5000
    assert body["fill_rate"] == 1.0
    assert body["acknowledge_hours_p50"] == 10
    assert body["lead_time_days_mean"] == 14
    assert [(day["day"], day["standing"], day["score"]) for day in body["history"]] == [
        ((timezone.localdate() - timedelta(days=3)).isoformat(), "new", None),
        (timezone.localdate().isoformat(), "excellent", "87.00"),
    ]


def test_days_limits_the_history(api_client_for, olivia, dhaka):
    # given
    suppliers_score(now=timezone.now() - timedelta(days=10))
    suppliers_score()

    # when
    response = api_client_for(olivia).get(_url(dhaka, days=5))

    # then
    assert [day["day"] for day in response.json()["history"]] == [timezone.localdate().isoformat()]


def test_a_supplier_never_scored_is_new_with_no_history(api_client_for, olivia, dhaka):
    body = api_client_for(olivia).get(_url(dhaka)).json()
    assert (body["as_of"], body["score"], body["standing"], body["history"]) == (None, None, "new", [])


def test_a_suppliers_user_sees_their_own_scorecard_and_gets_404_for_another(api_client_for, sally, dhaka, porto):
    client = api_client_for(sally)
    assert client.get(_url(dhaka)).status_code == 200
    assert client.get(_url(porto)).status_code == 404


@pytest.mark.parametrize("days", ["0", "367", "ten", "-1"])
def test_a_bad_days_value_is_a_400(api_client_for, olivia, dhaka, days):
    response = api_client_for(olivia).get(_url(dhaka) + f"?days={days}")
    assert response.status_code == 400
    assert "days" in response.json()


def test_buyers_and_anonymous_callers_are_kept_out(api_client_for, anon_client, alice, dhaka):
    assert api_client_for(alice).get(_url(dhaka)).status_code == 403
    assert anon_client.get(_url(dhaka)).status_code == 401
