from django.db import models
from django.utils import timezone


class JobRun(models.Model):
    """One execution of a background job, for job metrics and failure records."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        RETRYING = "retrying", "Retrying"
        FAILED = "failed", "Failed"

    task_name = models.CharField(max_length=200)
    task_id = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Status.choices)
    queue = models.CharField(max_length=50, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    retries = models.PositiveIntegerField(default=0)
    # Peak resident memory of the worker child after this run (ru_maxrss), in KiB.
    peak_rss_kib = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    # A failed run's arguments ({"args": [...], "kwargs": {...}}), so ops can send it again; null
    # when they are not JSON (tasks take primitive ids, so in practice always stored).
    arguments = models.JSONField(null=True, blank=True)
    # Set once, by the retry that re-sent this run (analytics.services.job_run_retry).
    retried_at = models.DateTimeField(null=True, blank=True)
    retry_task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-finished_at"]
        indexes = [
            models.Index(fields=["task_name", "finished_at"], name="jobrun_task_finished_idx"),
            # Job metrics read a window of runs across task names; retention deletes the oldest.
            models.Index(fields=["finished_at"], name="jobrun_finished_idx"),
            # The dashboard's recent failures.
            models.Index(fields=["finished_at"], condition=models.Q(status="failed"), name="jobrun_failed_idx"),
        ]

    def __str__(self):
        return f"{self.task_name} {self.status}"


class DailyStats(models.Model):
    """One day of one product type, rolled up from the business events (days in ANALYTICS_TIME_ZONE)."""

    day = models.DateField()
    product_type = models.CharField(max_length=50)
    orders_submitted = models.PositiveIntegerField(default=0)
    units_submitted = models.PositiveBigIntegerField(default=0)
    orders_pooled = models.PositiveIntegerField(default=0)
    orders_rejected = models.PositiveIntegerField(default=0)
    orders_direct = models.PositiveIntegerField(default=0)
    # Total price of the orders confirmed that day: direct orders, and the orders of confirmed batches.
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    refunds = models.PositiveIntegerField(default=0)
    refunded_amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    batches_opened = models.PositiveIntegerField(default=0)
    # Confirmed by the sweep or approved after review.
    batches_confirmed = models.PositiveIntegerField(default=0)
    batches_sent_to_review = models.PositiveIntegerField(default=0)
    batches_cancelled = models.PositiveIntegerField(default=0)
    # Over the batches confirmed or cancelled that day; null when none was.
    avg_fill_percent_at_close = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    avg_hours_to_confirm = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["day", "product_type"]
        verbose_name_plural = "daily stats"
        constraints = [
            # The rollup's ON CONFLICT target: a rerun overwrites a day, never adds a second row.
            models.UniqueConstraint(fields=["day", "product_type"], name="daily_stats_day_product_type")
        ]

    def __str__(self):
        return f"{self.day} {self.product_type}"


class RollupRun(models.Model):
    """One run of the daily rollup; the beat job starts from where the last incremental one did."""

    class Mode(models.TextChoices):
        INCREMENTAL = "incremental", "Incremental"
        BACKFILL = "backfill", "Backfill"

    mode = models.CharField(max_length=20, choices=Mode.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(default=timezone.now)
    first_day = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)
    days = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["mode", "started_at"], name="rollup_run_mode_started_idx")]

    def __str__(self):
        return f"{self.mode} rollup {self.first_day}..{self.last_day}"


# Reports keep their models in their own module; Django finds them through this import.
from analytics.reports.models import Report, ReportDelivery, ReportSubscription  # noqa: E402, F401
