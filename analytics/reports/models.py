"""Report requests, per-user weekly report settings and email deliveries."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class ReportKind(models.TextChoices):
    ORDERS = "orders", "Orders"
    BATCHES = "batches", "Production batches"
    SUPPLIER_ORDERS = "supplier_orders", "Supplier orders"
    SUPPLIERS = "suppliers", "Supplier scorecards"
    DAILY = "daily", "Daily summary"


class ReportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"
    PDF = "pdf", "PDF"


class Report(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        # The file was deleted after REPORT_RETENTION_DAYS; the row stays as a record.
        EXPIRED = "expired", "Expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(max_length=30, choices=ReportKind.choices)
    format = models.CharField(max_length=10, choices=ReportFormat.choices)
    date_from = models.DateField()
    date_to = models.DateField()  # inclusive
    product_type = models.SlugField(max_length=50, blank=True)
    supplier = models.ForeignKey(
        "suppliers.Supplier", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the requester may see, fixed when the report is requested: "ops" (everything),
    # "buyer" (their own orders) or "supplier" (that supplier's rows, in `supplier`).
    scope = models.CharField(max_length=20)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    failure_reason = models.TextField(blank=True)
    # Rows written so far while running; the final count once done.
    rows_written = models.PositiveIntegerField(default=0)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    file = models.FileField(upload_to="reports/", max_length=255, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    # Incremented by each start; only the attempt that started last may finish (a redelivered
    # task and the one it replaces can both run, and one file must win).
    attempt = models.PositiveIntegerField(default=0)
    scheduled = models.BooleanField(default=False)
    correlation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(date_from__lte=models.F("date_to")), name="report_dates_in_order"),
        ]
        indexes = [
            models.Index(fields=["requested_by", "-created_at"], name="report_requester_recent_idx"),
            # Retention: finished reports oldest first.
            models.Index(fields=["status", "finished_at"], name="report_status_finished_idx"),
        ]

    def __str__(self):
        return f"{self.kind} {self.format} {self.date_from}…{self.date_to} ({self.status})"

    @property
    def duration_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None


class ReportSubscription(models.Model):
    """An ops user's weekly report: which kind, in which format, and whether to skip empty weeks."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscription")
    enabled = models.BooleanField(default=True)
    kind = models.CharField(max_length=30, choices=ReportKind.choices, default=ReportKind.DAILY)
    format = models.CharField(max_length=10, choices=ReportFormat.choices, default=ReportFormat.XLSX)
    only_when_data = models.BooleanField(default=False, help_text="Send nothing for a week without rows.")
    last_period_end = models.DateField(null=True, blank=True)

    def __str__(self):
        return f"weekly {self.kind} {self.format} for {self.user}"


class ReportDelivery(models.Model):
    """One email of a scheduled report to one user, and how it went."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (no data)"

    class Method(models.TextChoices):
        ATTACHMENT = "attachment", "Attachment"
        LINK = "link", "Signed link"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="deliveries")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    method = models.CharField(max_length=20, choices=Method.choices, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "report deliveries"
        constraints = [
            # A re-run of the weekly job never mails the same report twice to one person.
            models.UniqueConstraint(fields=["report", "recipient"], name="report_delivery_once_per_recipient"),
        ]

    def __str__(self):
        return f"{self.report_id} → {self.email} ({self.status})"
