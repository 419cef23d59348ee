"""The weekly report per ops user: requested by a beat job, emailed once generated.

Monday's job asks for one report per ops user over the week before (their ReportSubscription
says which kind and format; the default is the daily summary as XLSX) with one ReportDelivery
each. When the report is done, generation queues ``reports.deliver``; a delivery sends the file
as an attachment, or a signed, expiring link when the file is over
``REPORT_EMAIL_MAX_ATTACHMENT_BYTES``. A send that fails is retried (the task's retry policy)
and each delivery keeps its status, attempts and last error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from analytics.reports.kinds import kind_spec
from analytics.reports.models import Report, ReportDelivery, ReportFormat, ReportSubscription
from analytics.reports.services import (
    CONTENT_TYPES,
    ReportRequestInvalid,
    report_request,
    report_signed_download_url,
)
from sleekbatch.roles import OPS

logger = logging.getLogger(__name__)

Delivery = ReportDelivery.Status


@dataclass(frozen=True)
class WeeklyRun:
    period: tuple[date, date]
    requested: int
    already_done: int
    disabled: int


def previous_week(today: date) -> tuple[date, date]:
    """Monday to Sunday of the last full week before ``today``."""
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(days=7), this_monday - timedelta(days=1)


def ops_recipients():
    """Active ops users (the ops group, or superusers) with an email address."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    return users.filter(Q(groups__name=OPS) | Q(is_superuser=True)).distinct().order_by("pk")


def weekly_reports_request(*, today: date | None = None) -> WeeklyRun:
    """Request last week's report for every ops user; a re-run in the same week requests nothing more."""
    today = today or timezone.now().date()
    first_day, last_day = previous_week(today)
    requested = already_done = disabled = 0
    for user in ops_recipients():
        subscription, _ = ReportSubscription.objects.get_or_create(user=user)
        if not subscription.enabled:
            disabled += 1
            continue
        if _weekly_request_one(subscription=subscription, first_day=first_day, last_day=last_day):
            requested += 1
        else:
            already_done += 1
    result = WeeklyRun((first_day, last_day), requested, already_done, disabled)
    logger.info("reports.weekly_requested", extra={"first_day": str(first_day), "requested": requested})
    return result


@transaction.atomic
def _weekly_request_one(*, subscription: ReportSubscription, first_day: date, last_day: date) -> bool:
    # Claims the week for this user (compare-and-set on last_period_end), so two overlapping runs
    # of the beat job cannot both request it.
    claimed = (
        ReportSubscription.objects.filter(pk=subscription.pk)
        .filter(Q(last_period_end__isnull=True) | Q(last_period_end__lt=last_day))
        .update(last_period_end=last_day)
    )
    if not claimed:
        return False
    parameters = {
        "user": subscription.user,
        "kind": subscription.kind,
        "date_from": first_day,
        "date_to": last_day,
        "scheduled": True,
    }
    try:
        report = report_request(format=subscription.format, **parameters)
    except ReportRequestInvalid:
        # A week too long for a PDF goes as XLSX rather than not at all.
        report = report_request(format=ReportFormat.XLSX, **parameters)
    ReportDelivery.objects.create(report=report, recipient=subscription.user, email=subscription.user.email)
    return True


class DeliveryNotReady(Exception):
    """The report is still being generated: try again later (retried by the task)."""


def report_delivery_send(*, delivery_id: int) -> ReportDelivery | None:
    """Email one scheduled report; raises on a failed send so that the task retries it."""
    delivery = ReportDelivery.objects.select_related("report", "recipient").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != Delivery.PENDING:
        return delivery
    report = delivery.report
    if report.status in (Report.Status.QUEUED, Report.Status.RUNNING):
        raise DeliveryNotReady(f"report {report.pk} is {report.status}")
    if report.status != Report.Status.DONE:
        _delivery_finish(delivery, Delivery.FAILED, error=f"The report {report.status}: {report.failure_reason}")
        return delivery
    subscription = ReportSubscription.objects.filter(user=delivery.recipient).first()
    if report.row_count == 0 and subscription is not None and subscription.only_when_data:
        _delivery_finish(delivery, Delivery.SKIPPED)
        return delivery

    ReportDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    message, method = _weekly_email(report, delivery)
    try:
        message.send(fail_silently=False)
    except Exception as exc:
        ReportDelivery.objects.filter(pk=delivery.pk).update(error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    _delivery_finish(delivery, Delivery.SENT, method=method)
    return delivery


def report_delivery_fail(*, delivery_id: int, error: str) -> None:
    """After the last retry: the delivery failed, with the last error."""
    ReportDelivery.objects.filter(pk=delivery_id, status=Delivery.PENDING).update(
        status=Delivery.FAILED, error=error[:2000]
    )


def _delivery_finish(delivery: ReportDelivery, status: str, *, method: str = "", error: str = "") -> None:
    fields = {"status": status, "error": error}
    if method:
        fields["method"] = method
    if status == Delivery.SENT:
        fields["sent_at"] = timezone.now()
    ReportDelivery.objects.filter(pk=delivery.pk, status=Delivery.PENDING).update(**fields)
    delivery.refresh_from_db()
    logger.info("report.delivery", extra={"delivery_id": delivery.pk, "status": status})


def _weekly_email(report: Report, delivery: ReportDelivery) -> tuple[EmailMessage, str]:
    title = kind_spec(report.kind).title
    subject = f"Weekly report: {title}, {report.date_from} to {report.date_to}"
    lines = [
        f"Hello {delivery.recipient.get_username()},",
        "",
        f"Your weekly {title.lower()} report for {report.date_from} to {report.date_to} is ready: "
        f"{report.row_count:,} rows, {report.format.upper()}.",
    ]
    if report.row_count == 0:
        lines.append("There was no activity in this period.")
    oversize = report.size_bytes is not None and report.size_bytes > settings.REPORT_EMAIL_MAX_ATTACHMENT_BYTES
    if oversize:
        hours = settings.REPORT_LINK_MAX_AGE_SECONDS // 3600
        lines += [
            "",
            f"The file ({report.size_bytes / 1024 / 1024:,.1f} MB) is too large to attach; download it here "
            f"(the link works for {hours} hours):",
            report_signed_download_url(report),
        ]
    lines += ["", "Change the kind, format or frequency of this email in the admin under Report subscriptions."]
    message = EmailMessage(subject=subject, body="\n".join(lines), to=[delivery.email])
    if oversize:
        return message, ReportDelivery.Method.LINK
    with report.file.open("rb") as handle:
        message.attach(report.file_name, handle.read(), CONTENT_TYPES[report.format])
    return message, ReportDelivery.Method.ATTACHMENT
