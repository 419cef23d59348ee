"""Buyer notifications: recorded with the change that causes them, emailed in chunks after commit.

A transition records the notifications of all the orders it moved in the statement that moves
them (rows already recorded for the same order and event are skipped by the unique constraint),
and asks for one mailing task after its commit, however many orders it touched. The task sends
what is pending in chunks over one mail connection per chunk, and leaves out the kinds a user
opted out of.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from orders.models import Notification, NotificationOptOut
from sleekbatch.celery import app

logger = logging.getLogger(__name__)

Kind = Notification.Kind


def notifications_recorded(count: int) -> None:
    """Ask for one mailing task after commit, when the statement just run recorded ``count`` notifications.

    Notifications are written by the statement that makes the change (batches.notifications), so
    they exist exactly when the change does; one task per transition, however many orders it
    touched, and none for a rolled-back one.
    """
    if count:
        transaction.on_commit(request_notification_emails)


# The mailer task's stable name; sent by name because orders.tasks imports this module.
SEND_NOTIFICATION_EMAILS = "orders.send_notification_emails"


def request_notification_emails() -> None:
    app.send_task(SEND_NOTIFICATION_EMAILS)


def notification_emails_send(*, chunk_size: int | None = None) -> dict[str, int]:
    """Send every pending notification email, a chunk at a time; returns how many were sent and skipped.

    Each chunk is claimed with ``FOR UPDATE SKIP LOCKED`` (two mailers never send the same row)
    and marked in the transaction that sent it, so a crash between sending and commit sends
    that chunk again rather than losing it: at least once, at most one chunk twice.
    """
    chunk_size = chunk_size or settings.NOTIFICATION_EMAIL_CHUNK
    totals = {"sent": 0, "skipped": 0}
    while True:
        with transaction.atomic():
            chunk = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(email_status=Notification.Email.PENDING)
                .select_related("user")
                .order_by("id")[:chunk_size]
            )
            if not chunk:
                return totals
            opted_out = set(
                NotificationOptOut.objects.filter(user_id__in={n.user_id for n in chunk}).values_list("user_id", "kind")
            )
            to_send = [n for n in chunk if n.user.email and (n.user_id, n.kind) not in opted_out]
            skipped = [n.id for n in chunk if n not in to_send]
            if to_send:
                # One connection for the chunk: an SMTP server sees one session, not one per mail.
                get_connection().send_messages(
                    [EmailMessage(n.subject, n.body, settings.DEFAULT_FROM_EMAIL, [n.user.email]) for n in to_send]
                )
            now = timezone.now()
            Notification.objects.filter(id__in=[n.id for n in to_send]).update(
                email_status=Notification.Email.SENT, emailed_at=now
            )
            Notification.objects.filter(id__in=skipped).update(email_status=Notification.Email.SKIPPED)
        totals["sent"] += len(to_send)
        totals["skipped"] += len(skipped)
        logger.info("notifications.emailed", extra={"sent": len(to_send), "skipped": len(skipped)})


# --- the user's side: list, mark read, email opt-outs ----------------------------------------


def notifications_of(user, *, unread_only: bool = False):
    notifications = Notification.objects.filter(user=user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications


def notification_mark_read(*, user, notification_id: int) -> Notification | None:
    """Mark one of the user's notifications read (idempotent); None when it is not theirs."""
    notification = Notification.objects.filter(user=user, id=notification_id).first()
    if notification is not None and notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(id=notification.id, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def email_preferences_of(user) -> dict[str, bool]:
    """Every kind, and whether the user gets it by email (yes unless opted out)."""
    opted_out = set(NotificationOptOut.objects.filter(user=user).values_list("kind", flat=True))
    return {kind: kind not in opted_out for kind in Kind.values}


@transaction.atomic
def email_preferences_set(*, user, preferences: dict[str, bool]) -> dict[str, bool]:
    off = [kind for kind, wanted in preferences.items() if not wanted]
    on = [kind for kind, wanted in preferences.items() if wanted]
    NotificationOptOut.objects.filter(user=user, kind__in=on).delete()
    NotificationOptOut.objects.bulk_create(
        [NotificationOptOut(user=user, kind=kind) for kind in off], ignore_conflicts=True
    )
    return email_preferences_of(user)
