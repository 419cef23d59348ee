"""The suppliers kind: each supplier's scorecard (score, standing and its parts) as
suppliers.selectors.suppliers_scorecards gives it, as it stood on the report's last day."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest

from analytics.reports.models import Report
from analytics.reports.services import report_request
from suppliers.models import Supplier, SupplierScoreSnapshot
from suppliers.selectors import suppliers_scorecards
from suppliers.services import supplier_membership_set
from tests.analytics.reports.conftest import WEEK_END, WEEK_START, generate
from tests.analytics.reports.test_report_api import URL, body
from tests.analytics.reports.test_report_files import read_pdf_text

HEADER = [
    "Supplier code", "Supplier", "Standing", "Score", "On time %", "Defect ppm", "Fill rate %",
    "Ack hours (p50)", "Lead days (mean)", "Lead days (stdev)", "Deliveries counted",
    "Scored on", "Window (days)",
]  # fmt: skip


def snapshot(supplier, day, *, score, standing, on_time_rate, fill_rate, orders_counted, defect_ppm=1250):
    return SupplierScoreSnapshot.objects.create(
        supplier=supplier,
        day=day,
        score=None if score is None else Decimal(score),
        standing=standing,
        on_time_rate=on_time_rate,
        defect_ppm=defect_ppm,
        fill_rate=fill_rate,
        acknowledge_hours_p50=5.256,
        lead_time_days_mean=12.5,
        lead_time_days_stdev=None,
        orders_counted=orders_counted,
        window_days=90,
        computed_at=datetime(day.year, day.month, day.day, 2, tzinfo=UTC),
    )


@pytest.fixture
def scored(world):
    """Łódź scored twice in the week and once after it; the formula-named supplier never."""
    snapshot(world.lodz, WEEK_START, score="71.00", standing="good", on_time_rate=0.8, fill_rate=0.9, orders_counted=5)
    snapshot(world.lodz, WEEK_END - timedelta(days=1), score="83.47", standing="excellent",
             on_time_rate=2 / 3 + 0.3, fill_rate=0.987654, orders_counted=6)  # fmt: skip
    snapshot(world.lodz, WEEK_END + timedelta(days=3), score="40.00", standing="watch", on_time_rate=0.4,
             fill_rate=0.5, orders_counted=9)  # fmt: skip
    return world


def request(user, fmt="csv", **extra):
    return report_request(user=user, kind="suppliers", format=fmt, date_from=WEEK_START, date_to=WEEK_END, **extra)


def csv_rows(report) -> list[list[str]]:
    with report.file.open("rb") as handle:
        return list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))


def test_the_csv_has_one_row_per_supplier_with_its_scorecard_as_of_the_last_day(scored, olivia):
    report = generate(request(olivia))

    assert report.status == "done", report.failure_reason
    header, *rows = csv_rows(report)
    assert header == HEADER
    # every supplier, by name; the one never scored is "new" with no numbers (as the API shows it)
    suppliers = list(Supplier.objects.order_by("name", "code"))
    assert [row[0] for row in rows] == [supplier.code for supplier in suppliers]
    by_code = {row[0]: row for row in rows}
    # as of WEEK_END: the snapshot of the day before, not the later one
    assert by_code["lodz"] == ["lodz", "Łódź Knitwear 東京", "excellent", "83.47", "96.67", "1250", "98.77", "5.26",
                               "12.50", "", "6", (WEEK_END - timedelta(days=1)).isoformat(), "90"]  # fmt: skip
    assert by_code["evil"] == ["evil", "'" + scored.evil.name, "new", "", "", "", "", "", "", "", "0", "", ""]
    assert report.row_count == len(suppliers)


def test_a_range_reaching_today_shows_the_numbers_the_api_shows(scored, olivia):
    # given: a range whose last day is after every scoring run
    report = generate(
        report_request(user=olivia, kind="suppliers", format="csv", date_from=WEEK_START, date_to=date.today())
    )

    # then: the selector's current scorecards, the one the API, the admin and the dashboard read
    current = suppliers_scorecards(supplier_ids=Supplier.objects.values_list("pk", flat=True))
    rows = {row[0]: row for row in csv_rows(report)[1:]}
    for supplier in Supplier.objects.all():
        card = current[supplier.pk].scorecard
        row = rows[supplier.code]
        assert row[2] == card.standing.value
        assert row[3] == ("" if card.score is None else str(card.score))
        assert row[4] == ("" if card.on_time_rate is None else f"{card.on_time_rate * 100:.2f}")
        assert row[10] == str(card.orders_counted)
    assert rows["lodz"][2:4] == ["watch", "40.00"]


def test_the_xlsx_has_typed_cells_and_a_summary_of_standings(scored, olivia):
    report = generate(request(olivia, "xlsx"))

    with report.file.open("rb") as handle:
        workbook = openpyxl.load_workbook(io.BytesIO(handle.read()))
    sheet = workbook["Supplier scorecards"]
    assert [cell.value for cell in sheet[1]] == HEADER
    lodz = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "lodz")
    assert lodz[3].value == pytest.approx(83.47) and lodz[3].number_format == "#,##0.00"
    assert lodz[4].value == pytest.approx(0.9667) and lodz[4].number_format == "0.00%"
    assert lodz[10].value == 6
    assert lodz[11].value.date() == WEEK_END - timedelta(days=1)
    evil = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "evil")
    assert evil[1].data_type == "s" and evil[1].value == scored.evil.name  # text, never a formula
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Suppliers"] == Supplier.objects.count()
    assert summary["Suppliers with a score"] == 1
    assert summary["Average score"] == pytest.approx(83.47)
    assert summary["Standing excellent"] == 1
    assert summary["Standing new"] == Supplier.objects.count() - 1
    assert workbook["Summary"]._charts


def test_the_pdf_shows_the_scorecards_summary_and_chart(scored, olivia):
    report = generate(request(olivia, "pdf"))

    assert report.status == "done", report.failure_reason
    reader, text = read_pdf_text(report)
    assert "Supplier scorecards report" in text
    assert "Suppliers by standing" in text
    assert "Łódź Knitwear" in text and "83.47" in text and "96.67 %" in text
    assert re.search(r"Page 2 of\s+2", text)  # the count is a form: the extractor puts it on its own line


def test_the_product_type_and_supplier_filters_pick_suppliers(scored, olivia):
    by_offer = generate(request(olivia, product_type="tee"))
    assert [row[0] for row in csv_rows(by_offer)[1:]] == ["evil"]

    one = generate(request(olivia, supplier="lodz"))
    assert [row[0] for row in csv_rows(one)[1:]] == ["lodz"]


def test_a_supplier_user_gets_only_its_own_row(scored, sam, api_client_for, queued):
    supplier_membership_set(user=sam, supplier=scored.lodz)
    client = api_client_for(sam)

    response = client.post(URL, body(kind="suppliers"), format="json")

    assert response.status_code == 202, response.json()
    report = generate(Report.objects.get(pk=response.json()["id"]))
    assert report.scope == "supplier" and report.supplier_id == scored.lodz.pk
    assert [row[0] for row in csv_rows(report)[1:]] == ["lodz"]


def test_a_supplier_user_cannot_ask_for_another_suppliers_scorecard(scored, sam, api_client_for, queued):
    supplier_membership_set(user=sam, supplier=scored.lodz)

    response = api_client_for(sam).post(URL, body(kind="suppliers", supplier="evil"), format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "A supplier's user may request reports of its own supplier only."
    assert not Report.objects.exists() and queued == []


def test_a_buyer_cannot_request_the_suppliers_kind(scored, alice, api_client_for, queued):
    response = api_client_for(alice).post(URL, body(kind="suppliers"), format="json")

    assert response.status_code == 403
    assert "orders" in response.json()["detail"]
    assert not Report.objects.exists() and queued == []
