"""The files themselves, opened the way their readers open them: csv, openpyxl, a PDF text
extractor and a rendering to PNG; rows and totals checked against the database."""

import csv
import io
import re
import shutil
import subprocess
from decimal import Decimal

import openpyxl
import pytest
from pypdf import PdfReader

from analytics.reports.kinds import kind_spec
from analytics.reports.services import report_request
from analytics.reports.writers import csv_copyable, write_csv
from orders.models import Order
from suppliers.models import SupplierOrder
from tests.analytics.reports.conftest import WEEK_END, WEEK_START, generate
from tests.conftest import requires_postgres


def request(user, kind, fmt, **extra):
    return report_request(user=user, kind=kind, format=fmt, date_from=WEEK_START, date_to=WEEK_END, **extra)


def read_csv(report):
    with report.file.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def read_xlsx(report):
    with report.file.open("rb") as handle:
        return openpyxl.load_workbook(io.BytesIO(handle.read()))


def read_pdf_text(report) -> tuple[PdfReader, str]:
    with report.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def page_numbers(text: str) -> list[tuple[int, int]]:
    return [(int(page), int(total)) for page, total in re.findall(r"Page (\d+) of\s+(\d+)", text)]


def test_the_orders_csv_has_one_row_per_order_in_the_week_and_matches_the_database(world, olivia):
    # when
    report = generate(request(olivia, "orders", "csv"))

    # then
    assert report.status == "done", report.failure_reason
    header, *rows = read_csv(report)
    assert header[:4] == ["Order ID", "Buyer", "Product type", "Quantity"]
    expected = Order.objects.filter(pk__in=[o.pk for o in world.in_week])
    assert sorted(row[0] for row in rows) == sorted(str(o.pk) for o in expected)
    assert sum(int(row[3]) for row in rows) == sum(o.quantity for o in expected)
    assert sum(Decimal(row[6]) for row in rows) == sum(o.total_price for o in expected)
    assert report.row_count == len(rows) == 5
    assert report.size_bytes == report.file.size


def test_the_csv_is_rfc_4180_with_crlf_line_ends_and_quoted_commas(world, olivia):
    report = generate(request(olivia, "orders", "csv"))

    with report.file.open("rb") as handle:
        raw = handle.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads UTF-8
    assert raw.count(b"\r\n") == 6 and b"\n" not in raw.replace(b"\r\n", b"")
    # the styles cell holds a comma, so it is quoted
    assert b'"classic, =1+1"' in raw


def test_formula_looking_text_is_prefixed_in_csv_and_non_ascii_names_survive(world, olivia):
    report = generate(request(olivia, "orders", "csv"))

    rows = {row[0]: row for row in read_csv(report)[1:]}
    zoe_row = next(row for row in rows.values() if row[1] == "zoë")
    assert zoe_row[4] == "'-2+3, @SUM(A1)"  # the cell starts with "-": neutralized
    assert zoe_row[9] == '\'=HYPERLINK("http://evil.example","click")'
    alice_row = rows[str(world.in_week[0].pk)]
    assert alice_row[9] == "Łódź Knitwear 東京"
    assert alice_row[4] == "classic, =1+1"  # starts with "c": harmless as it is


def test_the_xlsx_has_typed_cells_a_frozen_filtered_header_and_a_summary_sheet(world, olivia):
    report = generate(request(olivia, "orders", "xlsx"))

    assert report.status == "done", report.failure_reason
    workbook = read_xlsx(report)
    assert workbook.sheetnames == ["Summary", "Orders"]
    sheet = workbook["Orders"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:M6"
    assert sheet.column_dimensions["B"].width > 10
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 5
    first = sheet.cell(row=2, column=4)
    assert first.data_type == "n" and isinstance(first.value, int)
    price = sheet.cell(row=2, column=7)
    assert price.data_type == "n" and price.number_format == "#,##0.00"
    submitted = sheet.cell(row=2, column=11)
    assert submitted.is_date and submitted.value.year == 2026
    assert sum(row[3] for row in rows) == sum(o.quantity for o in world.in_week)
    assert Decimal(str(round(sum(row[6] for row in rows), 2))) == sum(o.total_price for o in world.in_week)

    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Orders"] == 5
    assert summary["Units"] == sum(o.quantity for o in world.in_week)
    assert summary["Period"] == f"{WEEK_START} to {WEEK_END}"
    assert workbook["Summary"]._charts or _has_chart(report)


def _has_chart(report) -> bool:
    import zipfile

    with report.file.open("rb") as handle:
        return any(name.startswith("xl/charts/") for name in zipfile.ZipFile(io.BytesIO(handle.read())).namelist())


def test_formula_looking_text_is_a_string_in_xlsx_never_a_formula_or_link(world, olivia):
    report = generate(request(olivia, "orders", "xlsx"))

    sheet = read_xlsx(report)["Orders"]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value is not None]
    evil = [cell for cell in cells if str(cell.value).startswith("=HYPERLINK")]
    assert evil and all(cell.data_type == "s" for cell in evil)
    assert not any(cell.data_type == "f" or cell.hyperlink for cell in cells)
    assert any(cell.value == "-2+3, @SUM(A1)" and cell.data_type == "s" for cell in cells)
    assert any(cell.value == "zoë" for cell in cells)


def test_the_pdf_has_title_parameters_summary_chart_and_paginated_detail(world, olivia, settings):
    report = generate(request(olivia, "orders", "pdf"))

    assert report.status == "done", report.failure_reason
    reader, text = read_pdf_text(report)
    assert "Orders report" in text
    assert f"{WEEK_START} to {WEEK_END}" in text
    assert "Generated at" in text
    assert "Units ordered by day" in text
    assert "Łódź Knitwear 東京" in text or "Łódź Knitwear" in text
    assert "zoë" in text
    # "Page n of N" on every page (N is a form drawn last: the extractor puts it on its own line)
    assert page_numbers(text) == [(n, len(reader.pages)) for n in range(1, len(reader.pages) + 1)]
    for order in world.in_week:
        assert str(order.pk)[:8] in text
    assert str(world.outside_week[0].pk)[:8] not in text


def test_supplier_orders_xlsx_amounts_match_the_database(world, olivia):
    report = generate(request(olivia, "supplier_orders", "xlsx"))

    rows = list(read_xlsx(report)["Supplier orders"].iter_rows(min_row=2, values_only=True))
    expected = SupplierOrder.objects.all()
    assert {row[0] for row in rows} == {so.order_number for so in expected}
    assert round(sum(row[5] for row in rows), 2) == float(sum(so.quantity * so.supplier_price for so in expected))


def test_batches_csv_lists_the_weeks_batches_with_fill_and_order_count(world, olivia):
    report = generate(request(olivia, "batches", "csv"))

    header, *rows = read_csv(report)
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    confirmed = by_id[str(world.batch_confirmed.pk)]
    assert confirmed["Fill %"] == "80.00" and confirmed["Orders"] == "2" and confirmed["Status"] == "confirmed"
    assert by_id[str(world.batch_open.pk)]["Supplier"].startswith("'=HYPERLINK")


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_a_report_over_an_empty_range_is_done_with_no_rows(world, olivia, fmt):
    from datetime import date

    report = generate(
        report_request(user=olivia, kind="orders", format=fmt, date_from=date(2020, 1, 1), date_to=date(2020, 1, 31))
    )

    assert report.status == "done" and report.row_count == 0
    if fmt == "csv":
        assert len(read_csv(report)) == 1
    elif fmt == "xlsx":
        assert read_xlsx(report)["Orders"].max_row == 1
    else:
        reader, text = read_pdf_text(report)
        assert len(reader.pages) == 2 and page_numbers(text) == [(1, 2), (2, 2)]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (pdftoppm)")
@pytest.mark.parametrize("kind", ["orders", "batches", "supplier_orders", "suppliers"])
def test_every_pdf_kind_renders_to_pages_that_are_not_blank(world, olivia, kind, tmp_path):
    from PIL import Image

    report = generate(request(olivia, kind, "pdf"))
    with report.file.open("rb") as handle:
        (tmp_path / "report.pdf").write_bytes(handle.read())

    subprocess.run(["pdftoppm", "-r", "40", "-png", str(tmp_path / "report.pdf"), str(tmp_path / "page")], check=True)

    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 2
    for page in pages:
        image = Image.open(page).convert("L")
        dark = sum(count for value, count in enumerate(image.histogram()) if value < 128)
        assert dark > 200, f"{page.name} looks blank"


@requires_postgres
def test_the_csv_printed_by_postgresql_copy_is_byte_for_byte_the_python_writers(world, olivia, tmp_path):
    # given: the orders kind is printed by COPY on PostgreSQL (formula-looking, non-ASCII, quoted cells)
    spec = kind_spec("orders")
    assert csv_copyable(spec)
    report = generate(request(olivia, "orders", "csv"))
    assert report.status == "done", report.failure_reason

    # when: the same rows go through the csv module
    python_path = tmp_path / "python.csv"
    write_csv(str(python_path), spec, spec.rows(report))

    # then
    with report.file.open("rb") as handle:
        copied = handle.read()
    assert copied == python_path.read_bytes()
    assert report.row_count == 5


def test_a_kind_with_a_column_derived_in_python_keeps_the_python_csv_writer():
    assert not csv_copyable(kind_spec("batches"))
    assert not csv_copyable(kind_spec("suppliers"))
