"""The PDF writer: a cover page (title, parameters, generation time, summary table, a chart), then
the detail table over as many pages as it takes, its header repeated and "page n of N" on each.

The detail pages are drawn straight onto the canvas, one text object per page: ReportLab's
platypus ``Table`` lays out every cell as a flowable and needs ~10 s for 10,000 rows, this ~1 s.
A PDF holds at most ``REPORT_PDF_MAX_ROWS`` rows (checked before it is queued). Rows are drawn as
they come, a page at a time: the cover (whose summary needs every row) and the page count in each
footer are PDF forms placed first and drawn last.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from datetime import UTC, datetime

from django.conf import settings
from reportlab.graphics import renderPDF
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from analytics.reports.kinds import ColumnType, KindSpec, ReportTooLarge, Summary

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
MARGIN = 30
BODY_SIZE = 7.5
ROW_HEIGHT = 11.5
HEADER_HEIGHT = 22  # two lines of header text
FOOTER_HEIGHT = 18
ROWS_PER_PAGE = int((PAGE_HEIGHT - 2 * MARGIN - HEADER_HEIGHT - FOOTER_HEIGHT - 20) // ROW_HEIGHT)
HEADER_FILL = colors.HexColor("#DDE4EE")
STRIPE_FILL = colors.HexColor("#F3F5F8")
BAR_FILL = colors.HexColor("#3A6EA5")
# Width of an average character relative to the font size, to cut long cells before they overlap.
AVERAGE_CHAR_WIDTH = 0.55
FONT = "ReportBody"
FONT_BOLD = "Helvetica-Bold"
_font_registered = False


def _register_font() -> None:
    """A Unicode TrueType font for cell text (names are not ASCII); ReportLab's Vera if it is missing."""
    global _font_registered
    if _font_registered:
        return
    path = settings.REPORT_PDF_FONT
    if not path or not os.path.exists(path):
        path = "Vera.ttf"  # bundled with ReportLab: Latin only, but always there
    pdfmetrics.registerFont(TTFont(FONT, path))
    _font_registered = True


def write_pdf(
    path: str,
    spec: KindSpec,
    rows: Iterable[tuple],
    *,
    summary: Summary,
    parameters: list[tuple[str, str]],
    generated_at: datetime,
    max_rows: int,
) -> int:
    _register_font()
    title = f"{spec.title} report"
    period = next((value for label, value in parameters if label == "Period"), "")
    pdf = canvas.Canvas(path, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=1)
    pdf.setTitle(f"{title} · {period}")
    pdf.setAuthor("sleekbatch")

    # The cover's summary and every footer's page count are known only after the last row: both
    # are forms, placed now and drawn at the end, so rows stream page by page and none is kept.
    pdf.doForm(COVER_FORM)
    _draw_footer(pdf, title, period, 1)
    pdf.showPage()

    layout = _ColumnLayout(spec)
    count, page, chunk = 0, 1, []
    for row in rows:
        if count >= max_rows:
            raise ReportTooLarge(
                f"More than {max_rows:,} rows: too many for a PDF. Request the same report as XLSX, "
                "which has no row limit."
            )
        summary.add(row)
        chunk.append(row)
        count += 1
        if len(chunk) == ROWS_PER_PAGE:
            page += 1
            _draw_detail_page(pdf, spec, layout, chunk)
            _draw_footer(pdf, title, period, page)
            pdf.showPage()
            chunk = []
    if chunk or page == 1:
        page += 1
        _draw_detail_page(pdf, spec, layout, chunk)
        _draw_footer(pdf, title, period, page)
        pdf.showPage()

    pdf.beginForm(COVER_FORM)
    _draw_cover(pdf, title, parameters, generated_at, summary)
    pdf.endForm()
    pdf.beginForm(PAGE_COUNT_FORM)
    pdf.setFont(FONT, 8)
    pdf.setFillColor(colors.grey)
    pdf.drawRightString(PAGE_COUNT_WIDTH, 0, str(page))
    pdf.endForm()
    pdf.save()
    return count


COVER_FORM = "cover"
PAGE_COUNT_FORM = "page_count"
PAGE_COUNT_WIDTH = 24  # room for "9999" in the footer's size


def _draw_cover(pdf, title, parameters, generated_at, summary: Summary) -> None:
    top = PAGE_HEIGHT - MARGIN
    pdf.setFont(FONT_BOLD, 18)
    pdf.drawString(MARGIN, top - 18, title)
    pdf.setFont(FONT, 10)
    y = top - 44
    lines = [*parameters, ("Generated at", generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))]
    for label, value in lines:
        pdf.setFont(FONT_BOLD, 10)
        pdf.drawString(MARGIN, y, f"{label}:")
        pdf.setFont(FONT, 10)
        pdf.drawString(MARGIN + 110, y, value)
        y -= 14

    y -= 14
    pdf.setFont(FONT_BOLD, 12)
    pdf.drawString(MARGIN, y, "Summary")
    y -= 6
    table_width = 300
    for index, (label, value, value_type) in enumerate(summary.lines()):
        y -= 15
        if index % 2 == 0:
            pdf.setFillColor(STRIPE_FILL)
            pdf.rect(MARGIN, y - 4, table_width, 15, stroke=0, fill=1)
            pdf.setFillColor(colors.black)
        pdf.setFont(FONT, 9.5)
        pdf.drawString(MARGIN + 4, y, label)
        pdf.drawRightString(MARGIN + table_width - 4, y, format_cell(value, value_type) or "–")

    chart_data = summary.chart()
    chart_x = MARGIN + table_width + 40
    chart_width = PAGE_WIDTH - chart_x - MARGIN
    pdf.setFont(FONT_BOLD, 12)
    pdf.drawString(chart_x, top - 44, chart_data.title)
    drawing = Drawing(chart_width, 260)
    chart = VerticalBarChart()
    chart.x, chart.y = 40, 40
    chart.width, chart.height = chart_width - 60, 200
    chart.data = [chart_data.values or [0]]
    chart.categoryAxis.categoryNames = chart_data.labels or [""]
    # Label at most ~16 bars so the labels never overlap; the bars are all drawn.
    step = max(1, math.ceil(len(chart_data.labels) / 16))
    chart.categoryAxis.categoryNames = [
        label if i % step == 0 else "" for i, label in enumerate(chart_data.labels or [""])
    ]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 30
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    if not any(chart_data.values):
        chart.valueAxis.valueMax = 1
    chart.bars[0].fillColor = BAR_FILL
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    renderPDF.draw(drawing, pdf, chart_x, top - 44 - 270)
    pdf.setFont(FONT, 8)
    pdf.drawString(chart_x + 40, top - 44 - 280, f"({chart_data.value_label})")


# Characters a PDF column is sized for, by type (text columns: their width, at most TEXT_PDF_CHARS).
PDF_CHARS = {
    ColumnType.INTEGER: 9,
    ColumnType.MONEY: 11,
    ColumnType.DECIMAL: 9,
    ColumnType.PERCENT: 9,
    ColumnType.DATE: 11,
    ColumnType.DATETIME: 18,
}
TEXT_PDF_CHARS = 22


class _ColumnLayout:
    def __init__(self, spec: KindSpec):
        usable = PAGE_WIDTH - 2 * MARGIN
        widths = [
            max(
                (column.pdf_chars + 4)
                if column.pdf_chars
                else PDF_CHARS.get(column.type, min(column.width, TEXT_PDF_CHARS)),
                # the header's longest word, in bold
                max(len(word) for word in column.header.split(" ")) + 2,
            )
            for column in spec.columns
        ]
        scale = usable / sum(widths)
        self.lefts, self.rights, self.widths, self.max_chars = [], [], [], []
        x = MARGIN
        for column, share in zip(spec.columns, widths, strict=True):
            width = share * scale
            self.lefts.append(x + 3)
            self.rights.append(x + width - 3)
            self.widths.append(width - 6)
            limit = int((width - 6) / (BODY_SIZE * AVERAGE_CHAR_WIDTH))
            # An id cut to pdf_chars shows those characters and then "…".
            self.max_chars.append(min(limit, column.pdf_chars + 1) if column.pdf_chars else limit)
            x += width
        self.right_aligned = [
            column.type in (ColumnType.INTEGER, ColumnType.MONEY, ColumnType.DECIMAL, ColumnType.PERCENT)
            for column in spec.columns
        ]

    def fit(self, text: str, index: int, font: str = FONT, measure_only: bool = False) -> str:
        """The text cut (with "…") to its column; measured only when it may be too wide."""
        limit = self.max_chars[index]
        if not measure_only:
            if len(text) > limit:
                text = text[: max(1, limit - 1)] + "…"
            if len(text) * 2 < limit * 1.4:  # even wide glyphs fit
                return text
        width = self.widths[index]
        while len(text) > 1 and pdfmetrics.stringWidth(text, font, BODY_SIZE) > width:
            text = text[:-2] + "…"
        return text


def _draw_detail_page(pdf, spec: KindSpec, layout: _ColumnLayout, rows: list[tuple]) -> None:
    top = PAGE_HEIGHT - MARGIN
    pdf.setFillColor(HEADER_FILL)
    pdf.rect(MARGIN, top - HEADER_HEIGHT, PAGE_WIDTH - 2 * MARGIN, HEADER_HEIGHT, stroke=0, fill=1)
    pdf.setFillColor(STRIPE_FILL)
    for index in range(1, len(rows), 2):
        y = top - HEADER_HEIGHT - (index + 1) * ROW_HEIGHT
        pdf.rect(MARGIN, y, PAGE_WIDTH - 2 * MARGIN, ROW_HEIGHT, stroke=0, fill=1)
    pdf.setFillColor(colors.black)

    header = pdf.beginText()
    header.setFont(FONT_BOLD, BODY_SIZE)
    for index, column in enumerate(spec.columns):
        lines = _header_lines(column.header, layout.widths[index])
        for line_number, line in enumerate(lines):
            line = layout.fit(line, index, FONT_BOLD, measure_only=True)
            y = top - 9 - line_number * 9 - (4 if len(lines) == 1 else 0)
            if layout.right_aligned[index]:
                width = pdfmetrics.stringWidth(line, FONT_BOLD, BODY_SIZE)
                header.setTextOrigin(layout.rights[index] - width, y)
            else:
                header.setTextOrigin(layout.lefts[index], y)
            header.textOut(line)
    pdf.drawText(header)

    body = pdf.beginText()
    body.setFont(FONT, BODY_SIZE)
    types = [c.type for c in spec.columns]
    fit = layout.fit
    for row_index, row in enumerate(rows):
        y = top - HEADER_HEIGHT - (row_index + 1) * ROW_HEIGHT + 3
        for index, value in enumerate(row):
            if value is None:
                continue
            text = fit(format_cell(value, types[index]), index)
            if layout.right_aligned[index]:
                width = pdfmetrics.stringWidth(text, FONT, BODY_SIZE)
                body.setTextOrigin(layout.rights[index] - width, y)
            else:
                body.setTextOrigin(layout.lefts[index], y)
            body.textOut(text)
    pdf.drawText(body)


def _header_lines(label: str, width: float) -> list[str]:
    """A header on one line, or broken over two at the space that balances them best."""
    if pdfmetrics.stringWidth(label, FONT_BOLD, BODY_SIZE) <= width or " " not in label:
        return [label]
    words = label.split(" ")
    splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    return list(min(splits, key=lambda pair: max(len(pair[0]), len(pair[1]))))


def _draw_footer(pdf, title: str, period: str, page: int) -> None:
    """ "Page n of N": N is the page-count form, drawn once the last page is known."""
    pdf.setFont(FONT, 8)
    pdf.setFillColor(colors.grey)
    pdf.drawString(MARGIN, MARGIN - 8, f"{title} · {period}")
    count_left = PAGE_WIDTH - MARGIN - PAGE_COUNT_WIDTH
    pdf.drawRightString(count_left - 2, MARGIN - 8, f"Page {page} of")
    pdf.saveState()
    pdf.translate(count_left, MARGIN - 8)
    pdf.doForm(PAGE_COUNT_FORM)
    pdf.restoreState()
    pdf.setFillColor(colors.black)


def format_cell(value, value_type: ColumnType) -> str:
    if value is None:
        return ""
    if value_type in (ColumnType.MONEY, ColumnType.DECIMAL):
        return f"{value:,.2f}"
    if value_type == ColumnType.INTEGER:
        return f"{value:,}"
    if value_type == ColumnType.PERCENT:
        return f"{value:.2f} %"
    if value_type == ColumnType.DATETIME:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    if value_type == ColumnType.DATE:
        return value.isoformat()
    return str(value)
