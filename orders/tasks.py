"""Order tasks (thin adapters): the buyer notification mailer."""

from celery import shared_task

from orders.notifications import SEND_NOTIFICATION_EMAILS, notification_emails_send
from sleekbatch.tasks import RETRY_POLICY


@shared_task(name=SEND_NOTIFICATION_EMAILS, **RETRY_POLICY)
def send_notification_emails() -> dict:
    """Send every pending notification email (one task per transition, however many orders it moved)."""
    return notification_emails_send()
