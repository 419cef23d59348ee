"""The admin: ops list reports with a download link and request one with a form."""

from analytics.reports.models import Report
from tests.analytics.reports.conftest import WEEK_END, WEEK_START, generate
from tests.analytics.reports.test_report_files import request

ADD_URL = "/admin/analytics/report/add/"


def form(**overrides):
    data = {
        "kind": "orders",
        "format": "xlsx",
        "date_from": str(WEEK_START),
        "date_to": str(WEEK_END),
        "product_type": "",
        "supplier": "",
    }
    data.update(overrides)
    return data


def test_ops_see_reports_with_a_download_link(world, olivia, client):
    report = generate(request(olivia, "orders", "csv"))
    client.force_login(olivia)

    page = client.get("/admin/analytics/report/")

    assert page.status_code == 200
    assert f'href="/api/reports/{report.pk}/download/"' in page.text
    assert report.file_name in page.text
    assert client.get(f"/api/reports/{report.pk}/download/").status_code == 200  # the session works there


def test_ops_request_a_report_from_the_admin_and_it_is_queued(world, olivia, client, queued, commits):
    client.force_login(olivia)

    with commits():
        response = client.post(ADD_URL, form(supplier=str(world.lodz.pk)))

    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.kind, report.format, report.supplier, report.scope) == ("orders", "xlsx", world.lodz, "ops")
    assert queued == [("reports.generate", str(report.pk))]


def test_bad_parameters_in_the_admin_form_are_shown_and_nothing_is_queued(world, olivia, client, queued, commits):
    client.force_login(olivia)

    with commits():
        response = client.post(ADD_URL, form(date_from=str(WEEK_END), date_to=str(WEEK_START)))

    assert response.status_code == 200
    assert "Must be on or after date_from." in response.text
    assert not Report.objects.exists() and queued == []


def test_a_buyer_cannot_open_the_report_admin(world, alice, client):
    client.force_login(alice)
    assert client.get("/admin/analytics/report/").status_code in (302, 403)
