"""CSV and XLSX writers: rows are written as they arrive, so memory stays flat whatever the size.

Both are injection-safe. A spreadsheet treats a cell that starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return as a formula (OWASP "CSV injection"): in CSV such a text cell is prefixed
with ``'``; in XLSX every text cell is written as a string, never a formula or a link (XlsxWriter
turns strings into both by default: ``strings_to_formulas``/``strings_to_urls`` are switched off).
Only text columns are escaped: numbers are written as numbers, and a negative amount is not text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from analytics.reports.kinds import Chart, ColumnType, KindSpec, Summary, _text, _text_or_empty
from sleekbatch.sql import Sql, queryset_sql

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")


def neutralize(text: str) -> str:
    """A text cell a spreadsheet would read as a formula, made plain text."""
    if text and text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def write_csv(path: str, spec: KindSpec, rows: Iterable[tuple]) -> int:
    """RFC 4180 (CRLF line ends, quotes doubled, fields quoted when needed), UTF-8 with a BOM so
    that Excel reads non-ASCII names correctly. Returns the number of data rows."""
    text_columns = [i for i, c in enumerate(spec.columns) if c.type == ColumnType.TEXT and not c.generated]
    datetime_columns = [i for i, c in enumerate(spec.columns) if c.type == ColumnType.DATETIME]
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([column.header for column in spec.columns])
        triggers = FORMULA_TRIGGERS
        for row in rows:
            cells = list(row)
            for i in text_columns:
                value = cells[i]
                if value and value.startswith(triggers):
                    cells[i] = "'" + value
            for i in datetime_columns:
                value = cells[i]
                if value is not None:
                    cells[i] = value.astimezone(UTC).isoformat(sep=" ", timespec="seconds")
            writer.writerow(cells)
            count += 1
    return count


# Converts whose text the database prints the same way: a UUID's ``str``, None kept or made empty.
_COPYABLE_CONVERTS = (None, str, _text, _text_or_empty)
_COPYABLE_TYPES = (ColumnType.TEXT, ColumnType.INTEGER, ColumnType.MONEY, ColumnType.DATE, ColumnType.DATETIME)


def csv_copyable(spec: KindSpec) -> bool:
    """Whether the database can print this kind's CSV cells exactly as ``write_csv`` writes them:
    every column fetched (none derived in Python), a text column's convert only text-making, and
    no column a float (PostgreSQL and Python print those differently)."""
    if spec.fetch is not None:
        return False
    for column in spec.columns:
        if column.derive is not None or isinstance(column.source, tuple) or column.type not in _COPYABLE_TYPES:
            return False
        if column.convert not in _COPYABLE_CONVERTS or (column.convert and column.type != ColumnType.TEXT):
            return False
    return True


def csv_copy_statement(spec: KindSpec, query) -> Sql:
    """The kind's query with each cell printed as ``write_csv`` prints it (PostgreSQL): text made
    formula-safe (``'`` before a leading = + - @ tab or CR; PostgreSQL text holds no NUL) and an
    empty string made NULL (COPY quotes ``""``, the csv module writes nothing), datetimes in UTC
    as ``isoformat(sep=" ", timespec="seconds")``; numbers and dates as the database prints them."""
    inner = queryset_sql(query)
    names = [f"c{index}" for index in range(len(spec.columns))]
    cells = []
    for name, column in zip(names, spec.columns, strict=True):
        if column.type == ColumnType.TEXT:
            text = f"CAST({name} AS TEXT)"
            if column.generated:
                cells.append(f"NULLIF({text}, '')")
            else:
                cells.append(
                    f"CASE WHEN left({text}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
                    f"THEN chr(39) || {text} ELSE NULLIF({text}, '') END"
                )
        elif column.type == ColumnType.DATETIME:
            cells.append(f"to_char({name} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '+00:00'")
        else:
            cells.append(name)
    return Sql(f"SELECT {', '.join(cells)} FROM ({inner.sql}) AS report_rows({', '.join(names)})", inner.params)


def write_csv_lines(path: str, spec: KindSpec, lines: Iterable[bytes], *, progress=None) -> int:
    """The CSV from lines the database printed (``\\n``-ended, one per row; see ``copy_csv_rows``):
    the same header, BOM and CRLF line ends as ``write_csv``. ``progress(count)`` is called after
    every block of ``LINES_PER_WRITE`` rows. Returns the number of data rows."""
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerow([column.header for column in spec.columns])
    with open(path, "ab") as handle:
        block = []
        for line in lines:
            block.append(line[:-1])
            count += 1
            if len(block) == LINES_PER_WRITE:
                block.append(b"")
                handle.write(b"\r\n".join(block))
                block.clear()
                if progress is not None:
                    progress(count)
        if block:
            block.append(b"")
            handle.write(b"\r\n".join(block))
    return count


LINES_PER_WRITE = 10_000


def write_xlsx(
    path: str,
    spec: KindSpec,
    rows: Iterable[tuple],
    *,
    summary: Summary,
    parameters: list[tuple[str, str]],
    generated_at: datetime,
) -> int:
    """A "Summary" sheet (parameters, totals, a chart) and the detail sheet: header row frozen,
    column widths, an autofilter, typed cells (numbers, money with two decimals, dates)."""
    import xlsxwriter  # here, not at the top: a process that writes no XLSX never loads it

    workbook = xlsxwriter.Workbook(
        path,
        {
            # Rows go to a temporary file as soon as the next row starts: memory stays flat.
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "remove_timezone": True,  # datetimes are UTC; the headers say so
        },
    )
    try:
        formats = {
            "title": workbook.add_format({"bold": True, "font_size": 14}),
            "label": workbook.add_format({"bold": True}),
            "header": workbook.add_format({"bold": True, "bg_color": "#DDE4EE", "bottom": 1, "text_wrap": True}),
            ColumnType.TEXT: None,
            ColumnType.INTEGER: workbook.add_format({"num_format": "#,##0"}),
            ColumnType.MONEY: workbook.add_format({"num_format": "#,##0.00"}),
            ColumnType.DECIMAL: workbook.add_format({"num_format": "#,##0.00"}),
            ColumnType.PERCENT: workbook.add_format({"num_format": "0.00%"}),
            ColumnType.DATE: workbook.add_format({"num_format": "yyyy-mm-dd"}),
            ColumnType.DATETIME: workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        }
        # The summary sheet comes first in the workbook but is filled last, once the totals are known.
        summary_sheet = workbook.add_worksheet("Summary")
        detail = workbook.add_worksheet(spec.title[:31])
        count = _write_detail(detail, spec, rows, summary, formats)
        _write_summary(workbook, summary_sheet, detail.name, spec, summary, parameters, generated_at, formats)
    finally:
        workbook.close()
    return count


def _write_detail(sheet, spec: KindSpec, rows: Iterable[tuple], summary: Summary, formats: dict) -> int:
    columns = spec.columns
    for index, column in enumerate(columns):
        sheet.set_column(index, index, column.width)
    sheet.set_row(0, 30)
    for index, column in enumerate(columns):
        sheet.write_string(0, index, column.header, formats["header"])
    sheet.freeze_panes(1, 0)

    # One writer method per column, chosen once: per-cell type dispatch would cost more than the write.
    cell_writers = []
    for index, column in enumerate(columns):
        fmt = formats[column.type]
        if column.type == ColumnType.TEXT:
            cell_writers.append((index, sheet.write_string, None, fmt))
        elif column.type in (ColumnType.DATE, ColumnType.DATETIME):
            cell_writers.append((index, sheet.write_datetime, None, fmt))
        elif column.type == ColumnType.PERCENT:
            cell_writers.append((index, sheet.write_number, _percent_fraction, fmt))
        else:
            cell_writers.append((index, sheet.write_number, None, fmt))

    add = summary.add
    row_number = 0
    for row in rows:
        row_number += 1
        add(row)
        for index, write, convert, fmt in cell_writers:
            value = row[index]
            if value is None:
                continue
            write(row_number, index, convert(value) if convert else value, fmt)
    sheet.autofilter(0, 0, max(row_number, 1), len(columns) - 1)
    return row_number


def _percent_fraction(value: Decimal) -> float:
    return float(value) / 100


def _write_summary(workbook, sheet, detail_name, spec, summary, parameters, generated_at, formats) -> None:
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 22)
    row = 0
    sheet.write_string(row, 0, f"{spec.title} report", formats["title"])
    row += 2
    for label, value in [*parameters, ("Generated at (UTC)", generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"))]:
        sheet.write_string(row, 0, label, formats["label"])
        sheet.write_string(row, 1, value)
        row += 1
    row += 1
    sheet.write_string(row, 0, "Summary", formats["title"])
    row += 1
    for label, value, value_type in summary.lines():
        sheet.write_string(row, 0, label, formats["label"])
        if value is None:
            sheet.write_string(row, 1, "–")
        elif value_type == ColumnType.PERCENT:
            sheet.write_number(row, 1, _percent_fraction(value), formats[value_type])
        else:
            sheet.write_number(row, 1, value, formats[value_type])
        row += 1
    row += 1
    chart_data: Chart = summary.chart()
    sheet.write_string(row, 0, chart_data.title, formats["title"])
    row += 1
    sheet.write_string(row, 0, "", formats["header"])
    sheet.write_string(row, 1, chart_data.value_label, formats["header"])
    first = row + 1
    for label, value in zip(chart_data.labels, chart_data.values, strict=True):
        row += 1
        sheet.write_string(row, 0, label)
        sheet.write_number(row, 1, value, formats[ColumnType.INTEGER])
    last = row
    if chart_data.labels:
        chart = workbook.add_chart({"type": "column"})
        chart.add_series(
            {
                "name": chart_data.value_label,
                "categories": ["Summary", first, 0, last, 0],
                "values": ["Summary", first, 1, last, 1],
                "fill": {"color": "#3A6EA5"},
            }
        )
        chart.set_title({"name": chart_data.title})
        chart.set_legend({"none": True})
        chart.set_size({"width": 720, "height": 320})
        sheet.insert_chart(2, 3, chart)
    row += 2
    sheet.write_string(row, 0, f"Detail rows are on the sheet {detail_name!r}.")
