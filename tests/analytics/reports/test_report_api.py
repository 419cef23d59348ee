"""The report API: request (202, queued after commit), bad parameters (400, nothing stored or
queued), roles (403), another user's report (404), status, and the download."""

import csv
import io
from datetime import timedelta

import pytest

from analytics.reports.models import Report
from analytics.reports.services import report_download_signature
from tests.analytics.reports.conftest import WEEK_END, WEEK_START, generate

URL = "/api/reports/"


def body(**overrides):
    payload = {"kind": "orders", "format": "csv", "date_from": str(WEEK_START), "date_to": str(WEEK_END)}
    payload.update(overrides)
    return payload


def test_ops_request_a_report_and_it_is_queued_after_commit(world, olivia, api_client_for, queued,
                                                            django_capture_on_commit_callbacks):  # fmt: skip
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(olivia).post(URL, body(kind="batches", format="xlsx"), format="json")

    # then
    assert response.status_code == 202, response.json()
    data = response.json()
    assert data["status"] == "queued" and data["kind"] == "batches" and data["download_url"] is None
    assert queued == [("reports.generate", data["id"])]
    assert Report.objects.get(pk=data["id"]).scope == "ops"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "everything"}, "kind"),
        ({"format": "docx"}, "format"),
        ({"date_from": str(WEEK_END), "date_to": str(WEEK_START)}, "date_to"),
        ({"date_from": "2025-01-01", "date_to": "2026-06-30"}, "date_to"),
        ({"date_from": "not-a-date"}, "date_from"),
        ({"product_type": "spacesuit"}, "product_type"),
        ({"supplier": "nobody"}, "supplier"),
        ({"supplier": "999999"}, "supplier"),
    ],
)
def test_bad_parameters_are_a_400_with_nothing_stored_or_queued(world, olivia, api_client_for, queued, overrides,
                                                                field, django_capture_on_commit_callbacks):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(olivia).post(URL, body(**overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Report.objects.exists()
    assert queued == []


def test_a_pdf_over_the_row_cap_is_refused_with_a_pointer_to_xlsx(world, olivia, api_client_for, queued, settings):
    settings.REPORT_PDF_MAX_ROWS = 3

    response = api_client_for(olivia).post(URL, body(format="pdf"), format="json")

    assert response.status_code == 400
    assert "xlsx" in response.json()["format"][0]
    assert not Report.objects.exists()
    # the same report as XLSX is fine
    assert api_client_for(olivia).post(URL, body(format="xlsx"), format="json").status_code == 202


def test_a_buyer_may_request_only_the_orders_kind(world, alice, api_client_for, queued):
    for kind in ("batches", "supplier_orders"):
        response = api_client_for(alice).post(URL, body(kind=kind), format="json")
        assert response.status_code == 403, kind
        assert "orders" in response.json()["detail"]
    assert not Report.objects.exists()


def test_a_supplier_user_without_supplier_kinds_is_refused(world, sam, api_client_for, queued):
    response = api_client_for(sam).post(URL, body(kind="supplier_orders"), format="json")
    assert response.status_code == 403
    assert not Report.objects.exists()


def test_a_buyers_orders_report_holds_only_their_own_orders(world, alice, api_client_for, queued):
    response = api_client_for(alice).post(URL, body(), format="json")
    report = generate(Report.objects.get(pk=response.json()["id"]))

    download = api_client_for(alice).get(f"{URL}{report.pk}/download/")
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))[1:]
    assert {row[1] for row in rows} == {"alice"}
    assert sorted(row[0] for row in rows) == sorted(str(o.pk) for o in world.in_week if o.buyer == alice)


def test_another_users_report_is_a_404_and_ops_see_all(world, alice, bob, olivia, api_client_for, queued):
    report_id = api_client_for(alice).post(URL, body(), format="json").json()["id"]

    assert api_client_for(bob).get(f"{URL}{report_id}/").status_code == 404
    assert api_client_for(bob).get(f"{URL}{report_id}/download/").status_code == 404
    assert api_client_for(bob).get(URL).json()["results"] == []
    assert api_client_for(alice).get(f"{URL}{report_id}/").status_code == 200
    assert [r["id"] for r in api_client_for(olivia).get(URL).json()["results"]] == [report_id]


def test_status_shows_progress_rows_size_and_timing_once_done(world, olivia, api_client_for, queued):
    client = api_client_for(olivia)
    report_id = client.post(URL, body(format="xlsx"), format="json").json()["id"]
    assert client.get(f"{URL}{report_id}/download/").status_code == 409  # still queued

    generate(Report.objects.get(pk=report_id))
    data = client.get(f"{URL}{report_id}/").json()

    assert data["status"] == "done"
    assert data["row_count"] == data["progress"] == 5
    assert data["size_bytes"] > 0 and data["duration_ms"] >= 0
    assert data["file_name"] == f"sleekbatch-orders-{WEEK_START}-to-{WEEK_END}.xlsx"
    assert data["download_url"].endswith(f"/api/reports/{report_id}/download/")


def test_the_download_streams_the_file_with_its_type_and_name(world, olivia, api_client_for, queued):
    client = api_client_for(olivia)
    report_id = client.post(URL, body(format="pdf", product_type="hoodie", supplier="lodz"), format="json").json()["id"]
    generate(Report.objects.get(pk=report_id))

    response = client.get(f"{URL}{report_id}/download/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="sleekbatch-orders-{WEEK_START}-to-{WEEK_END}-hoodie-lodz.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_a_signed_link_downloads_without_a_token_until_it_expires(world, olivia, api_client_for, anon_client,
                                                                  queued, settings):  # fmt: skip
    report_id = api_client_for(olivia).post(URL, body(), format="json").json()["id"]
    report = generate(Report.objects.get(pk=report_id))
    signature = report_download_signature(report)

    assert anon_client.get(f"{URL}{report_id}/download/").status_code == 401
    assert anon_client.get(f"{URL}{report_id}/download/", {"signature": signature}).status_code == 200
    assert anon_client.get(f"{URL}{report_id}/download/", {"signature": signature + "x"}).status_code == 403
    settings.REPORT_LINK_MAX_AGE_SECONDS = -1
    assert anon_client.get(f"{URL}{report_id}/download/", {"signature": signature}).status_code == 403


def test_no_token_is_a_401(anon_client, db):
    assert anon_client.get(URL).status_code == 401
    assert anon_client.post(URL, body(), format="json").status_code == 401


def test_an_expired_report_is_gone(world, olivia, api_client_for, queued):
    from django.utils import timezone

    from analytics.reports.services import reports_purge_expired

    report_id = api_client_for(olivia).post(URL, body(), format="json").json()["id"]
    report = generate(Report.objects.get(pk=report_id))
    path = report.file.path

    result = reports_purge_expired(now=timezone.now() + timedelta(days=31))

    assert result["expired"] == 1
    import os

    assert not os.path.exists(path)
    assert api_client_for(olivia).get(f"{URL}{report_id}/download/").status_code == 410
    assert api_client_for(olivia).get(f"{URL}{report_id}/").json()["status"] == "expired"
