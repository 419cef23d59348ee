"""The daily rollup kind, and supplier users scoped to their own supplier."""

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from analytics.models import DailyStats
from analytics.reports.models import Report
from suppliers.services import supplier_membership_set
from tests.analytics.reports.conftest import WEEK_END, WEEK_START, generate
from tests.analytics.reports.test_report_api import URL, body


@pytest.fixture
def daily_rows(db):
    rows = [
        DailyStats(day=date(2026, 11, 2), product_type="hoodie", orders_submitted=3, units_submitted=90,
                   revenue=Decimal("1035.00"), batches_opened=1, avg_fill_percent_at_close=Decimal("80.00")),
        DailyStats(day=date(2026, 11, 2), product_type="tee", orders_submitted=1, units_submitted=30,
                   revenue=Decimal("187.50")),
        DailyStats(day=date(2026, 11, 5), product_type="hoodie", orders_submitted=2, units_submitted=157,
                   revenue=Decimal("1380.00"), refunds=1, refunded_amount=Decimal("57.50")),
        DailyStats(day=date(2026, 11, 9), product_type="hoodie", orders_submitted=9, units_submitted=900),
    ]  # fmt: skip
    return DailyStats.objects.bulk_create(rows)


def test_the_daily_xlsx_holds_the_rollup_rows_of_the_range_and_their_totals(world, daily_rows, olivia, api_client_for,
                                                                            queued):  # fmt: skip
    report_id = api_client_for(olivia).post(URL, body(kind="daily", format="xlsx"), format="json").json()["id"]
    report = generate(Report.objects.get(pk=report_id))

    assert report.status == "done", report.failure_reason
    with report.file.open("rb") as handle:
        workbook = openpyxl.load_workbook(io.BytesIO(handle.read()))
    rows = list(workbook["Daily summary"].iter_rows(min_row=2, values_only=True))
    assert [(row[0].date(), row[1]) for row in rows] == [
        (date(2026, 11, 2), "hoodie"),
        (date(2026, 11, 2), "tee"),
        (date(2026, 11, 5), "hoodie"),
    ]
    in_range = [r for r in daily_rows if WEEK_START <= r.day <= WEEK_END]
    assert sum(row[3] for row in rows) == sum(r.units_submitted for r in in_range)
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Revenue"] == float(sum(r.revenue for r in in_range))
    assert summary["Days with activity"] == 2


def test_the_daily_kind_is_filtered_by_product_type_but_not_by_supplier(world, daily_rows, olivia, api_client_for,
                                                                        queued):  # fmt: skip
    client = api_client_for(olivia)
    assert client.post(URL, body(kind="daily", supplier="lodz"), format="json").status_code == 400

    report_id = client.post(URL, body(kind="daily", product_type="tee"), format="json").json()["id"]
    report = generate(Report.objects.get(pk=report_id))
    with report.file.open("rb") as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))[1:]
    assert [(row[0], row[1]) for row in rows] == [("2026-11-02", "tee")]


def test_a_buyer_cannot_request_the_daily_kind(world, alice, api_client_for, queued):
    assert api_client_for(alice).post(URL, body(kind="daily"), format="json").status_code == 403


def test_a_supplier_user_gets_only_their_suppliers_orders(world, sam, api_client_for, queued):
    # given: sam acts for Łódź
    supplier_membership_set(user=sam, supplier=world.lodz)
    client = api_client_for(sam)

    # when
    response = client.post(URL, body(kind="supplier_orders"), format="json")

    # then
    assert response.status_code == 202, response.json()
    report = generate(Report.objects.get(pk=response.json()["id"]))
    assert report.scope == "supplier" and report.supplier_id == world.lodz.pk
    with report.file.open("rb") as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))[1:]
    assert {row[1] for row in rows} == {world.lodz.name}
    assert len(rows) == 2


def test_a_supplier_user_cannot_ask_for_another_supplier_or_other_kinds(world, sam, api_client_for, queued):
    supplier_membership_set(user=sam, supplier=world.lodz)
    client = api_client_for(sam)

    assert client.post(URL, body(kind="supplier_orders", supplier="evil"), format="json").status_code == 403
    for kind in ("orders", "batches", "daily"):
        assert client.post(URL, body(kind=kind), format="json").status_code == 403, kind
    assert not Report.objects.exists()
