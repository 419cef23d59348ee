from datetime import timedelta

import pytest
from django.utils import timezone

from tests.analytics.dashboard_data import dashboard_data

DATA_URL = "/api/analytics/dashboard/"
PAGE_URL = "/ops/dashboard/"


@pytest.mark.django_db
def test_ops_get_every_panel_in_one_answer(olivia, api_client_for):
    # given
    dashboard_data()

    # when
    response = api_client_for(olivia).get(DATA_URL)

    # then
    assert response.status_code == 200
    data = response.json()
    assert data["batches_by_status"] == {"open": 4, "confirmed": 1, "admin_review": 1, "cancelled": 0}
    fill = {row["from_percent"]: row["batches"] for row in data["open_fill_histogram"]}
    assert (fill[0], fill[30], fill[60], fill[90]) == (1, 1, 1, 1)  # 100 % counts in the top bin
    assert sum(fill.values()) == 4
    assert data["review_queue"]["length"] == 1
    assert data["review_queue"]["oldest_age_hours"] == pytest.approx(5.0, abs=0.1)
    hours = data["orders_per_hour"]
    assert len(hours) == 48
    assert (hours[-1]["orders"], hours[-1]["units"]) == (1, 12)
    assert (hours[-4]["orders"], hours[-4]["units"]) == (2, 38)
    assert sum(row["orders"] for row in hours) == 4  # the order from 60 h ago is outside
    jobs = data["jobs_per_hour"]
    assert len(jobs) == 12
    assert sum(row["runs"] for row in jobs) == 3
    assert sum(row["failed"] for row in jobs) == 1  # the failure 800 minutes ago is outside
    assert max(row["error_rate"] for row in jobs) == 1.0  # 70 minutes ago: an hour of its own
    assert [failure["task_id"] for failure in data["recent_failures"]] == ["job-70", "job-800"]
    daily = data["daily"]
    assert len(daily) == 30
    assert (daily[-1]["orders"], daily[-1]["revenue"]) == (40, "1200.00")
    assert (daily[-3]["orders"], daily[-3]["revenue"]) == (15, "50.50")  # both product types summed
    assert daily[-2]["orders"] == 0


@pytest.mark.django_db
def test_an_empty_platform_gives_empty_panels_not_errors(olivia, api_client_for):
    response = api_client_for(olivia).get(DATA_URL)
    assert response.status_code == 200
    assert response.json()["review_queue"] == {"length": 0, "oldest_started_at": None, "oldest_age_hours": None}


@pytest.mark.django_db
def test_buyers_and_suppliers_get_403_on_the_page_and_its_data(alice, sam, api_client_for, client):
    assert api_client_for(alice).get(DATA_URL).status_code == 403
    assert api_client_for(sam).get(DATA_URL).status_code == 403
    client.force_login(alice)
    assert client.get(PAGE_URL).status_code == 403


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(PAGE_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/ops/dashboard/")


@pytest.mark.django_db
def test_the_admin_index_links_ops_to_the_dashboard(olivia, client):
    client.force_login(olivia)
    page = client.get("/admin/").content.decode()
    assert 'href="/ops/dashboard/"' in page
    response = client.get(PAGE_URL)
    assert response.status_code == 200
    assert b'src="/static/analytics/dashboard.js"' in response.content


def test_hours_are_zero_filled_in_order():
    from analytics.dashboard import _hour, _hours

    first = _hour(timezone.now()) - timedelta(hours=2)
    assert [h - first for h in _hours(first, 3)] == [timedelta(0), timedelta(hours=1), timedelta(hours=2)]
