"""Every write of a report: the request (validated, scoped, queued after commit), its generation
(queued → running → done | failed, each a compare-and-set), and the retention purge.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from urllib.parse import urlencode

from celery import current_app
from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from analytics.reports.kinds import KINDS, ReportTooLarge, kind_spec
from analytics.reports.models import Report, ReportDelivery, ReportFormat
from sleekbatch import sql
from sleekbatch.correlation import get_correlation_id
from sleekbatch.db import heavy_reads
from sleekbatch.roles import BUYER, OPS, SUPPLIER, has_role
from sleekbatch.tasks import TRANSIENT_ERRORS
from suppliers.models import Supplier, SupplierOffer
from suppliers.selectors import supplier_id_for_user

logger = logging.getLogger(__name__)

Status = Report.Status
GENERATE_TASK = "reports.generate"
DELIVER_TASK = "reports.deliver"
CONTENT_TYPES = {
    ReportFormat.CSV: "text/csv; charset=utf-8",
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.PDF: "application/pdf",
}
PARTIAL_DIR = "reports/partial"


class ReportRequestInvalid(Exception):
    """Bad parameters: ``errors`` maps each field to its messages (a 400, nothing stored)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


class ReportNotAllowed(Exception):
    """The user's role may not request this kind (a 403)."""


@dataclass(frozen=True)
class ReportScope:
    scope: str
    supplier: Supplier | None


def report_scope_for(*, user, kind: str, supplier: Supplier | None) -> ReportScope:
    spec = kind_spec(kind)
    if has_role(user, OPS):
        return ReportScope(OPS, supplier)
    if has_role(user, BUYER) and BUYER in spec.roles:
        return ReportScope(BUYER, supplier)
    if has_role(user, SUPPLIER) and SUPPLIER in spec.roles:
        own_id = supplier_id_for_user(user)
        if own_id is not None and (supplier is None or supplier.pk == own_id):
            return ReportScope(SUPPLIER, supplier or Supplier.objects.get(pk=own_id))
        raise ReportNotAllowed(
            "A supplier's user may request reports of its own supplier only."
            if own_id is not None
            else "Your user belongs to no supplier: ask ops to link it."
        )
    allowed = sorted(name for name, other in KINDS.items() if _role_may_request(user, other.roles))
    raise ReportNotAllowed(
        f"You may not request {kind} reports" + (f"; you may request: {', '.join(allowed)}." if allowed else ".")
    )


def _role_may_request(user, roles: frozenset[str]) -> bool:
    return any(has_role(user, role) for role in roles)


def _resolve_supplier(value: str | int | None) -> Supplier | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    supplier = Supplier.objects.filter(pk=int(text)).first() if text.isdigit() else None
    supplier = supplier or Supplier.objects.filter(code=text).first()
    if supplier is None:
        raise ReportRequestInvalid({"supplier": [f"No supplier with id or code {text!r}."]})
    return supplier


def report_validate_parameters(
    *, kind: str, format: str, date_from: date, date_to: date, product_type: str, supplier: str | int | None
) -> Supplier | None:
    errors: dict[str, list[str]] = {}
    if kind not in KINDS:
        errors["kind"] = [f"Choose one of: {', '.join(KINDS)}."]
    if format not in ReportFormat.values:
        errors["format"] = [f"Choose one of: {', '.join(ReportFormat.values)}."]
    if date_from > date_to:
        errors["date_to"] = ["Must be on or after date_from."]
    elif (date_to - date_from).days + 1 > settings.REPORT_MAX_RANGE_DAYS:
        errors["date_to"] = [
            f"A report covers at most {settings.REPORT_MAX_RANGE_DAYS} days; this range has "
            f"{(date_to - date_from).days + 1}."
        ]
    if supplier not in (None, "") and kind in KINDS and not KINDS[kind].supplier_filter:
        errors["supplier"] = [f"{KINDS[kind].title} reports cannot be filtered by supplier."]
    if product_type and not SupplierOffer.objects.filter(product_type=product_type).exists():
        errors["product_type"] = [f"No product type {product_type!r}."]
    try:
        resolved = _resolve_supplier(supplier)
    except ReportRequestInvalid as exc:
        errors.update(exc.errors)
        resolved = None
    if errors:
        raise ReportRequestInvalid(errors)
    return resolved


def report_prepare(
    *,
    user,
    kind: str,
    format: str,
    date_from: date,
    date_to: date,
    product_type: str = "",
    supplier: str | int | None = None,
    scheduled: bool = False,
    correlation_id: str = "",
) -> Report:
    """A validated, scoped, unsaved report request (raises ReportRequestInvalid / ReportNotAllowed)."""
    resolved = report_validate_parameters(
        kind=kind, format=format, date_from=date_from, date_to=date_to, product_type=product_type, supplier=supplier
    )
    scope = report_scope_for(user=user, kind=kind, supplier=resolved)
    report = Report(
        requested_by=user,
        kind=kind,
        format=format,
        date_from=date_from,
        date_to=date_to,
        product_type=product_type or "",
        supplier=scope.supplier,
        scope=scope.scope,
        scheduled=scheduled,
        correlation_id=correlation_id or get_correlation_id(),
    )
    if format == ReportFormat.PDF:
        with heavy_reads():
            rows = kind_spec(kind).count(report)
        if rows > settings.REPORT_PDF_MAX_ROWS:
            raise ReportRequestInvalid(
                {
                    "format": [
                        f"This report has {rows:,} rows; a PDF holds at most {settings.REPORT_PDF_MAX_ROWS:,}. "
                        "Request it as xlsx (no row limit), or narrow the range or filters."
                    ]
                }
            )
    return report


@transaction.atomic
def report_request(**parameters) -> Report:
    """Validate, scope, store and queue one report (generation starts after this commits).

    Takes the keyword arguments of ``report_prepare``.
    """
    report = report_prepare(**parameters)
    report.save()
    transaction.on_commit(partial(_enqueue_generation, report.pk))
    return report


def _enqueue_generation(report_id) -> None:
    current_app.send_task(GENERATE_TASK, args=[str(report_id)])


def report_parameters(report: Report) -> list[tuple[str, str]]:
    """The parameters as people read them, for the documents' cover and the email."""
    parameters = [
        ("Period", f"{report.date_from.isoformat()} to {report.date_to.isoformat()}"),
        ("Product type", report.product_type or "all"),
        ("Supplier", report.supplier.name if report.supplier_id else "all"),
        ("Requested by", report.requested_by.get_username()),
    ]
    if report.scope == BUYER:
        parameters.append(("Scope", "own orders"))
    return parameters


def report_file_name(report: Report) -> str:
    """A name that says what the file is: sleekbatch-orders-2026-11-01-to-2026-11-30-hoodie.xlsx."""
    parts = [
        "sleekbatch",
        report.kind.replace("_", "-"),
        report.date_from.isoformat(),
        "to",
        report.date_to.isoformat(),
    ]
    if report.product_type:
        parts.append(report.product_type)
    if report.supplier_id:
        parts.append(report.supplier.code)
    return "-".join(parts) + f".{report.format}"


def _report_start(report_id) -> Report | None:
    """queued|running → running: a redelivered task takes over a report whose worker died."""
    now = timezone.now()
    started = Report.objects.filter(pk=report_id, status__in=[Status.QUEUED, Status.RUNNING]).update(
        status=Status.RUNNING, started_at=now, rows_written=0, attempt=F("attempt") + 1
    )
    if not started:
        return None
    return Report.objects.select_related("requested_by", "supplier").get(pk=report_id)


def report_generate(*, report_id) -> Report | None:
    """Write the report's file to a partial file, move it into storage, then mark it done.

    Nothing half-written is ever under the report's name: the partial file is deleted on any
    error, and a finished file whose attempt lost the race (a redelivered duplicate finished
    first) is deleted too.
    """
    report = _report_start(report_id)
    if report is None:
        logger.info("report.not_startable", extra={"report_id": str(report_id)})
        return None
    attempt = report.attempt
    spec = kind_spec(report.kind)
    generated_at = timezone.now()
    partial_path = _partial_path(report)
    stored_name = None
    try:
        with heavy_reads():
            if report.format == ReportFormat.CSV and _csv_by_copy(spec, report):
                rows = _copied_csv_lines(report, spec, attempt=attempt)
            else:
                rows = _with_progress(spec.rows(report), report_id=report.pk, attempt=attempt)
            row_count = _write(report, spec, rows, partial_path, generated_at)
        size = os.path.getsize(partial_path)
        stored_name = default_storage.save(
            f"reports/{generated_at:%Y/%m}/{report.pk}.{report.format}", _MovableFile(partial_path)
        )
    except ReportTooLarge as exc:
        _discard(partial_path)
        report_fail(report_id=report.pk, reason=str(exc), attempt=attempt)
        return None
    except TRANSIENT_ERRORS:
        _discard(partial_path)
        raise  # retried by the task
    except Exception as exc:
        _discard(partial_path)
        report_fail(report_id=report.pk, reason=f"{type(exc).__name__}: {exc}", attempt=attempt)
        raise
    finished = Report.objects.filter(pk=report.pk, status=Status.RUNNING, attempt=attempt).update(
        status=Status.DONE,
        file=stored_name,
        file_name=report_file_name(report),
        rows_written=row_count,
        row_count=row_count,
        size_bytes=size,
        finished_at=timezone.now(),
        failure_reason="",
    )
    if not finished:
        default_storage.delete(stored_name)
        logger.info("report.superseded", extra={"report_id": str(report.pk), "attempt": attempt})
        return None
    if report.scheduled:
        _deliveries_enqueue(report.pk)
    logger.info(
        "report.done",
        extra={"report_id": str(report.pk), "kind": report.kind, "format": report.format, "rows": row_count},
    )
    report.refresh_from_db()
    return report


def _deliveries_enqueue(report_id) -> None:
    """A scheduled report is done: queue the emails waiting for it (see analytics/reports/scheduled.py)."""
    pending = ReportDelivery.objects.filter(report_id=report_id, status=ReportDelivery.Status.PENDING)
    for delivery_id in pending.values_list("pk", flat=True):
        transaction.on_commit(partial(current_app.send_task, DELIVER_TASK, args=[delivery_id]))


def _write(report: Report, spec, rows, path: str, generated_at: datetime) -> int:
    # The writers are imported when a report is written, not when Django starts: ReportLab and
    # XlsxWriter add ~22 MB to every web and worker process otherwise, and a CSV needs neither.
    if report.format == ReportFormat.CSV:
        from analytics.reports.writers import write_csv, write_csv_lines

        if isinstance(rows, _CopiedCsv):
            return write_csv_lines(path, spec, rows.lines, progress=rows.progress)
        return write_csv(path, spec, rows)
    documents = {"summary": spec.summary(report), "parameters": report_parameters(report), "generated_at": generated_at}
    if report.format == ReportFormat.XLSX:
        from analytics.reports.writers import write_xlsx

        return write_xlsx(path, spec, rows, **documents)
    from analytics.reports.pdf import write_pdf

    return write_pdf(path, spec, rows, max_rows=settings.REPORT_PDF_MAX_ROWS, **documents)


def _csv_by_copy(spec, report: Report) -> bool:
    from analytics.reports.writers import csv_copyable

    return csv_copyable(spec) and connections[spec.query(report).db].vendor == "postgresql"


@dataclass(frozen=True)
class _CopiedCsv:
    """CSV lines printed by PostgreSQL, and what stores the progress as they are written."""

    lines: Iterator[bytes]
    progress: Callable[[int], None] | None


def _copied_csv_lines(report: Report, spec, *, attempt: int) -> _CopiedCsv:
    """The CSV printed by PostgreSQL (``COPY … TO STDOUT``), streamed to the file: no value
    becomes a Python object, and rows arrive while the query still runs. Progress is stored as
    the rows come only when the read runs on the replica: on the primary the COPY holds the
    connection the progress update would use, so the count is stored when the file is done."""
    query = spec.query(report)
    progress = None
    if query.db != DEFAULT_DB_ALIAS:
        stored = 0

        def progress(count: int) -> None:
            nonlocal stored
            if count - stored >= settings.REPORT_PROGRESS_EVERY_ROWS:
                Report.objects.filter(pk=report.pk, status=Status.RUNNING, attempt=attempt).update(rows_written=count)
                stored = count

    return _CopiedCsv(_copy_lines(spec, query), progress)


def _copy_lines(spec, query) -> Iterator[bytes]:
    from analytics.reports.kinds import without_jit
    from analytics.reports.writers import csv_copy_statement

    with without_jit(query.db):
        yield from sql.copy_csv_rows(csv_copy_statement(spec, query), using=query.db)


def _with_progress(rows, *, report_id, attempt: int):
    """Pass rows through, storing the count every REPORT_PROGRESS_EVERY_ROWS rows."""
    every = settings.REPORT_PROGRESS_EVERY_ROWS
    count = 0
    for row in rows:
        yield row
        count += 1
        if count % every == 0:
            Report.objects.filter(pk=report_id, status=Status.RUNNING, attempt=attempt).update(rows_written=count)


def _partial_path(report: Report) -> str:
    directory = os.path.join(settings.MEDIA_ROOT, PARTIAL_DIR)
    os.makedirs(directory, exist_ok=True)
    handle, path = tempfile.mkstemp(prefix=f"{report.pk}-", suffix=f".{report.format}.partial", dir=directory)
    os.close(handle)
    return path


def _discard(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


class _MovableFile(File):
    """A finished partial file that FileSystemStorage moves into place instead of copying."""

    def __init__(self, path: str):
        super().__init__(open(path, "rb"), name=path)
        self._path = path

    def temporary_file_path(self) -> str:
        return self._path


def report_fail(*, report_id, reason: str, attempt: int | None = None) -> bool:
    """queued|running → failed, with the reason people will read."""
    reports = Report.objects.filter(pk=report_id, status__in=[Status.QUEUED, Status.RUNNING])
    if attempt is not None:
        reports = reports.filter(attempt=attempt)
    failed = reports.update(status=Status.FAILED, failure_reason=reason[:2000], finished_at=timezone.now())
    if failed:
        logger.warning("report.failed", extra={"report_id": str(report_id), "reason": reason[:200]})
    return bool(failed)


def reports_purge_expired(*, now: datetime | None = None) -> dict[str, int]:
    """Delete files older than REPORT_RETENTION_DAYS (rows stay, marked expired); fail reports
    whose worker vanished mid-run; remove partial files such a worker left behind."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.REPORT_RETENTION_DAYS)
    expired = 0
    for report in Report.objects.filter(status=Status.DONE, finished_at__lt=cutoff).only("pk", "file").iterator():
        if report.file:
            default_storage.delete(report.file.name)
        expired += Report.objects.filter(pk=report.pk, status=Status.DONE).update(status=Status.EXPIRED, file="")

    stale_before = now - timedelta(seconds=settings.REPORT_TASK_SOFT_TIME_LIMIT * 2)
    abandoned = Report.objects.filter(
        Q(status=Status.RUNNING, started_at__lt=stale_before) | Q(status=Status.QUEUED, created_at__lt=stale_before)
    ).update(
        status=Status.FAILED,
        failure_reason="Generation was interrupted (the worker stopped); request the report again.",
        finished_at=now,
    )

    partials = 0
    directory = os.path.join(settings.MEDIA_ROOT, PARTIAL_DIR)
    if os.path.isdir(directory):
        for entry in os.scandir(directory):
            if entry.stat().st_mtime < stale_before.timestamp():
                _discard(entry.path)
                partials += 1
    result = {"expired": expired, "abandoned": abandoned, "partials_removed": partials}
    logger.info("reports.purged", extra=result)
    return result


# --- signed download links ----------------------------------------------------------------------

DOWNLOAD_SALT = "sleekbatch.reports.download"


def report_download_signature(report: Report) -> str:
    """A signature that lets whoever holds it download this report for REPORT_LINK_MAX_AGE_SECONDS."""
    return signing.TimestampSigner(salt=DOWNLOAD_SALT).sign(str(report.pk)).split(":", 1)[1]


def report_signature_valid(*, report_id, signature: str) -> bool:
    signer = signing.TimestampSigner(salt=DOWNLOAD_SALT)
    try:
        signer.unsign(f"{report_id}:{signature}", max_age=settings.REPORT_LINK_MAX_AGE_SECONDS)
    except signing.BadSignature:  # includes SignatureExpired
        return False
    return True


def report_signed_download_url(report: Report) -> str:
    path = reverse("report-download", kwargs={"report_id": report.pk})
    return f"{settings.PUBLIC_BASE_URL}{path}?{urlencode({'signature': report_download_signature(report)})}"
