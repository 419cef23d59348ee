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
