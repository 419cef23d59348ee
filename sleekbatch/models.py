"""The business-event table (what happened to orders, batches, refunds, supplier orders and jobs)
and the audit trail (what staff decided, sleekbatch/audit.py).

It lives in the infrastructure layer on purpose. The writers are orders and batches, which
record an event in the very statement (or at least the transaction) that makes the change,
as an ``INSERT … SELECT`` over the rows that moved; the reader is analytics, the top layer
(daily rollups, the dashboard). Placed in analytics, every writer would have to import
upwards; placed here, each layer reaches it downwards (docs/architecture.md). Ids are plain
columns, not foreign keys, for the same reason and because an event outlives nothing it
points at: it is an append-only record.
"""

from django.db import models
from django.utils import timezone


class BrinOnPostgresIndex(models.Index):
    """A BRIN index on PostgreSQL, a plain (B-tree) index elsewhere.

    For append-only time columns BRIN costs next to nothing per insert (one summary per
    128 pages) and still narrows a day's range scan to that day's pages; SQLite has no BRIN.
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            using = " USING brin"
        return super().create_sql(model, schema_editor, using=using, **kwargs)


class BusinessEvent(models.Model):
    class Kind(models.TextChoices):
        ORDER_SUBMITTED = "order_submitted", "Order submitted"
        ORDER_POOLED = "order_pooled", "Order pooled"
        ORDER_REJECTED = "order_rejected", "Order rejected"
        ORDER_DIRECT = "order_direct", "Direct order"
        BATCH_OPENED = "batch_opened", "Batch opened"
        BATCH_NEARING_TARGET = "batch_nearing_target", "Batch nearing target"
        BATCH_CONFIRMED = "batch_confirmed", "Batch confirmed"
        BATCH_SENT_TO_REVIEW = "batch_sent_to_review", "Batch sent to review"
        BATCH_APPROVED = "batch_approved", "Batch approved after review"
        BATCH_EXTENDED = "batch_extended", "Batch window extended"
        BATCH_CANCELLED = "batch_cancelled", "Batch cancelled"
        REFUND_ISSUED = "refund_issued", "Refund issued"
        SUPPLIER_ORDER_PLACED = "supplier_order_placed", "Supplier order placed"
        JOB_FAILED = "job_failed", "Job failed"

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # When it happened (an order's submission: its created_at, written when pooling records it).
    occurred_at = models.DateTimeField()
    # When the row was written: incremental rollups look for days touched since their last run.
    recorded_at = models.DateTimeField(default=timezone.now)
    product_type = models.CharField(max_length=50, blank=True)
    order_id = models.UUIDField(null=True, blank=True)
    batch_id = models.UUIDField(null=True, blank=True)
    supplier_id = models.BigIntegerField(null=True, blank=True)
    # Units: the order's quantity; a batch's current quantity (its target when it opens).
    quantity = models.IntegerField(null=True, blank=True)
    # Money: an order's total price; a confirmed batch's orders' total (revenue); a refund;
    # a supplier order's cost.
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    fill_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    # A batch decision: when the batch opened (hours to confirm are read off it).
    batch_opened_at = models.DateTimeField(null=True, blank=True)
    # An extension: the time granted, in seconds.
    duration_seconds = models.BigIntegerField(null=True, blank=True)
    # A rejection's or cancellation's reason, a failed job's error.
    reason = models.TextField(blank=True)
    task_name = models.CharField(max_length=200, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            BrinOnPostgresIndex(fields=["occurred_at"], name="business_event_occurred_idx"),
            BrinOnPostgresIndex(fields=["recorded_at"], name="business_event_recorded_idx"),
            # The dashboard's orders and units per hour: an index-only scan of the last 48 h.
            models.Index(
                fields=["occurred_at"],
                include=["quantity"],
                condition=models.Q(kind="order_submitted"),
                name="business_event_submitted_idx",
            ),
        ]

    def __str__(self):
        return f"{self.kind} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class AuditEntry(models.Model):
    """One staff decision: who, what, the changed fields before and after, when, under which request.

    Append-only, in the infrastructure layer for the same reason as ``BusinessEvent``: every app
    writes here (through ``sleekbatch.audit.audit_record``) in the transaction of the change. The
    actor is copied (id and username), not a foreign key, so that the entry survives the user.
    """

    class Action(models.TextChoices):
        REVIEW_APPROVE = "review_approve", "Review: approve"
        REVIEW_CANCEL = "review_cancel", "Review: cancel"
        REVIEW_EXTEND = "review_extend", "Review: extend window"
        ADMIN_ADD = "admin_add", "Admin: add"
        ADMIN_CHANGE = "admin_change", "Admin: change"
        ADMIN_DELETE = "admin_delete", "Admin: delete"
        SUPPLIER_ORDER_ACKNOWLEDGE = "supplier_order_acknowledge", "Supplier order: acknowledge"
        SUPPLIER_ORDER_SHIP = "supplier_order_ship", "Supplier order: ship"
        SUPPLIER_ORDER_DELIVER = "supplier_order_deliver", "Supplier order: deliver"
        SUPPLIER_ORDER_CANCEL = "supplier_order_cancel", "Supplier order: cancel"
        JOB_RETRY = "job_retry", "Failed job: retry"

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(default=timezone.now)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=40, choices=Action.choices)
    # ``app_label.model`` of the object decided on, its primary key and how it read then.
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    # Only the fields that changed; sensitive ones masked (sleekbatch.audit.MASK).
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            BrinOnPostgresIndex(fields=["created_at"], name="audit_entry_created_idx"),
            # "What happened to this object": the admin's search by object id.
            models.Index(fields=["object_id", "object_type"], name="audit_entry_object_idx"),
            # "What did this user decide": the admin's user filter.
            models.Index(fields=["actor_username", "created_at"], name="audit_entry_actor_idx"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.object_type} {self.object_id} by {self.actor_username or '—'}"
