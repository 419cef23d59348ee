from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers


class JobMetricsQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="ISO 8601; default: an hour before `until`")
    until = serializers.DateTimeField(required=False, help_text="ISO 8601; default: now")

    def validate(self, attrs):
        until = attrs.get("until") or timezone.now()
        since = attrs.get("since") or until - timedelta(hours=1)
        if since >= until:
            raise serializers.ValidationError({"since": ["Must be before until."]})
        if until - since > settings.JOB_METRICS_MAX_WINDOW:
            days = settings.JOB_METRICS_MAX_WINDOW.days
            raise serializers.ValidationError({"since": [f"The window may span at most {days} days."]})
        return {"since": since, "until": until}


class TaskMetricsSerializer(serializers.Serializer):
    task_name = serializers.CharField()
    runs = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    retries = serializers.IntegerField(help_text="attempts that ended in a retry")
    success_rate = serializers.FloatField(allow_null=True, help_text="succeeded / (succeeded + failed)")
    p50_ms = serializers.FloatField(allow_null=True)
    p95_ms = serializers.FloatField(allow_null=True)
    max_ms = serializers.IntegerField(allow_null=True)
    runs_per_minute = serializers.FloatField()
    peak_rss_mib = serializers.FloatField(allow_null=True, help_text="the worker child's peak memory after a run")
    last_error = serializers.CharField(allow_blank=True)
    last_error_at = serializers.DateTimeField(allow_null=True)


class JobMetricsSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    tasks = TaskMetricsSerializer(many=True)
