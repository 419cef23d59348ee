"""The weekly report per ops user: requested by the beat job once a week, emailed when generated
(attachment, or a signed link when large), each delivery's status stored, failed sends retried."""

import smtplib
from datetime import date

import pytest
from django.core import mail
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from analytics.reports.models import Report, ReportDelivery, ReportSubscription
from analytics.reports.scheduled import previous_week, report_delivery_send, weekly_reports_request
from analytics.reports.services import report_generate
from tests.analytics.reports.conftest import WEEK_END, WEEK_START

MONDAY_AFTER = date(2026, 11, 9)


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def olivia_mailable(olivia):
    olivia.email = "olivia@example.com"
    olivia.save()
    return olivia


def run_weekly(queued, commits):
    """The beat job, then what the worker does with the messages it queued (after each commit)."""
    with commits():
        result = weekly_reports_request(today=MONDAY_AFTER)
    for name, *args in list(queued):
        if name == "reports.generate":
            with commits():
                report_generate(report_id=args[0])
    for name, *args in list(queued):
        if name == "reports.deliver":
            report_delivery_send(delivery_id=args[0])
    return result


def test_previous_week_is_monday_to_sunday_before_today():
    assert previous_week(date(2026, 11, 9)) == (WEEK_START, WEEK_END)  # a Monday
    assert previous_week(date(2026, 11, 15)) == (WEEK_START, WEEK_END)  # the Sunday after


def test_each_ops_user_gets_last_weeks_daily_summary_as_an_xlsx_attachment(
    world, olivia_mailable, alice, queued, commits
):
    alice.email = "alice@example.com"
    alice.save()  # a buyer: gets nothing

    result = run_weekly(queued, commits)

    assert result.requested == 1 and result.period == (WEEK_START, WEEK_END)
    report = Report.objects.get()
    assert (report.kind, report.format, report.scheduled, report.requested_by) == (
        "daily",
        "xlsx",
        True,
        olivia_mailable,
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["olivia@example.com"]
    assert f"{WEEK_START} to {WEEK_END}" in message.subject
    ((name, content, mimetype),) = message.attachments
    assert name == report.file_name and content[:2] == b"PK" and "spreadsheetml" in mimetype
    delivery = ReportDelivery.objects.get()
    assert (delivery.status, delivery.method, delivery.attempts) == ("sent", "attachment", 1)
    assert delivery.sent_at is not None


def test_the_job_run_twice_in_a_week_requests_and_sends_once(world, olivia_mailable, queued, commits):
    run_weekly(queued, commits)
    queued.clear()
    second = run_weekly(queued, commits)

    assert second.requested == 0 and second.already_done == 1
    assert Report.objects.count() == 1 and len(mail.outbox) == 1


def test_a_report_over_the_size_setting_goes_as_a_signed_expiring_link(
    world, olivia_mailable, queued, settings, anon_client, commits
):
    settings.REPORT_EMAIL_MAX_ATTACHMENT_BYTES = 100
    ReportSubscription.objects.create(user=olivia_mailable, kind="orders", format="csv")

    run_weekly(queued, commits)

    message = mail.outbox[0]
    assert message.attachments == []
    link = next(line for line in message.body.splitlines() if "/download/?signature=" in line)
    path = link.replace(settings.PUBLIC_BASE_URL, "")
    response = anon_client.get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode("utf-8-sig").startswith("Order ID,")
    assert ReportDelivery.objects.get().method == "link"


def test_only_when_there_is_data_skips_an_empty_week(db, olivia_mailable, queued, commits):
    ReportSubscription.objects.create(user=olivia_mailable, kind="orders", format="pdf", only_when_data=True)

    run_weekly(queued, commits)

    assert Report.objects.get().row_count == 0
    assert mail.outbox == []
    assert ReportDelivery.objects.get().status == "skipped"


def test_an_empty_week_is_still_sent_by_default(db, olivia_mailable, queued, commits):
    run_weekly(queued, commits)

    assert len(mail.outbox) == 1 and "no activity" in mail.outbox[0].body


def test_a_failed_send_is_recorded_and_raised_so_the_task_retries_it(
    world, olivia_mailable, queued, monkeypatch, commits
):
    with commits():
        weekly_reports_request(today=MONDAY_AFTER)
        report_generate(report_id=Report.objects.get().pk)
    delivery = ReportDelivery.objects.get()

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("mail server went away")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        report_delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "mail server went away" in delivery.error

    monkeypatch.undo()
    report_delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1


def test_the_deliver_task_retries_a_failed_send_then_marks_it_failed(
    world, olivia_mailable, queued, monkeypatch, settings, commits
):
    from analytics.reports.tasks import deliver_report

    with commits():
        weekly_reports_request(today=MONDAY_AFTER)
        report_generate(report_id=Report.objects.get().pk)
    delivery = ReportDelivery.objects.get()
    monkeypatch.setattr(
        "django.core.mail.backends.locmem.EmailBackend.send_messages",
        lambda self, messages: (_ for _ in ()).throw(smtplib.SMTPServerDisconnected("down")),
    )
    monkeypatch.setattr(deliver_report, "max_retries", 2)
    monkeypatch.setattr(deliver_report, "retry_backoff", 0)

    result = deliver_report.apply(args=[delivery.pk])  # eager, retries included

    assert result.failed()
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 3 and "down" in delivery.error


def test_setup_periodic_tasks_creates_the_weekly_job_on_monday_morning(db):
    call_command("setup_periodic_tasks")

    job = PeriodicTask.objects.get(task="reports.send_weekly")
    assert (job.crontab.day_of_week, job.crontab.hour, job.crontab.minute) == ("1", "6", "0")
    assert job.queue == "reports" and job.interval is None
    assert PeriodicTask.objects.get(task="reports.purge_expired").interval.every == 3600
