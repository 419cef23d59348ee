import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Order(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        POOLED = "pooled", "Pooled"
        CONFIRMED = "confirmed", "Confirmed"
        DELIVERED = "delivered", "Delivered"
        REFUNDED = "refunded", "Refunded"
        REJECTED = "rejected", "Rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    product_type = models.SlugField(max_length=50)
    quantity = models.PositiveIntegerField()
    # [{"style": "classic", "color": "navy", "sizes": {"M": 10, "L": 5}}, ...]
    style_details = models.JSONField(default=list)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    total_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    workflow_status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    is_batch_order = models.BooleanField(default=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    # SHA-256 of the canonical request body, so a reused key with another body is a 409.
    request_fingerprint = models.CharField(max_length=64, blank=True)
    rejection_reason = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    pooled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="order_idempotency_key_per_buyer",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_quantity_positive"),
        ]
        indexes = [
            # The pooling claim: oldest submitted orders first. Partial, so it
            # stays as small as the backlog however many orders exist.
            models.Index(
                fields=["created_at"], condition=Q(workflow_status="submitted"), name="order_submitted_claim_idx"
            ),
            models.Index(fields=["buyer", "-created_at"], name="order_buyer_recent_idx"),
            models.Index(fields=["workflow_status", "created_at"], name="order_status_created_idx"),
            # The reports' order (analytics/reports/kinds.py): a date range read in created_at, id
            # order straight off the index, not sorted on disk (a month holds millions of orders).
            models.Index(fields=["created_at", "id"], name="order_created_idx"),
        ]

    def __str__(self):
        return f"{self.product_type} × {self.quantity} ({self.workflow_status})"


class BulkSubmission(models.Model):
    """A bulk submission made with an Idempotency-Key: a retry gets the same orders back, as a unit."""

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bulk_submissions")
    idempotency_key = models.CharField(max_length=255)
    # SHA-256 of the canonical request body, so a reused key with another body is a 409.
    request_fingerprint = models.CharField(max_length=64)
    # The ids of the orders it stored, in the order they were submitted (up to ORDER_BULK_MAX);
    # a list here rather than a column on every order keeps the order table and its INSERT as they are.
    order_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["buyer", "idempotency_key"], name="bulk_idempotency_key_per_buyer")
        ]

    def __str__(self):
        return f"bulk {self.idempotency_key!r} of {len(self.order_ids)} orders"


class Refund(models.Model):
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="refund")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.CharField(max_length=200)
    correlation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="refund_amount_non_negative")]

    def __str__(self):
        return f"Refund {self.amount} for {self.order_id}"


class Notification(models.Model):
    """Something that happened to one of a buyer's orders: listed on the API, and emailed unless opted out."""

    class Kind(models.TextChoices):
        ORDER_CONFIRMED = "order_confirmed", "Order confirmed"
        ORDER_REFUNDED = "order_refunded", "Order refunded"
        ORDER_REJECTED = "order_rejected", "Order rejected"
        BATCH_IN_REVIEW = "batch_in_review", "Batch sent to review"
        BATCH_EXTENDED = "batch_extended", "Batch window extended"

    class Email(models.TextChoices):
        PENDING = "pending", "To send"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Not sent (opted out or no address)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # What makes this event unique for the order: the kind, plus the batch event for events that
    # can repeat (a batch extended twice). A second sweep or a redelivered task inserts nothing.
    event_key = models.CharField(max_length=80)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(max_length=10, choices=Email.choices, default=Email.PENDING)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "event_key"], name="notification_once_per_order_event"),
        ]
        indexes = [
            # A user's list, newest first (and its unread filter).
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_recent_idx"),
            # The mailer's claim: only the rows still to send, however many exist.
            models.Index(fields=["id"], condition=Q(email_status="pending"), name="notification_email_pending_idx"),
        ]

    def __str__(self):
        return f"{self.kind} for {self.user_id}: {self.subject}"


class NotificationOptOut(models.Model):
    """A user who does not want emails of one kind (the notification is still listed on the API)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_opt_outs")
    kind = models.CharField(max_length=30, choices=Notification.Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_opt_out_once")]

    def __str__(self):
        return f"{self.user_id} opts out of {self.kind} emails"
