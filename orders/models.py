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
