from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from analytics.models import DailyStats
from analytics.rollups import analytics_zone


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


class DailyStatsQuerySerializer(serializers.Serializer):
    # "from" is a Python keyword: the field is declared under its query-parameter name below.
    to = serializers.DateField(required=False, help_text="last day, YYYY-MM-DD (default: today)")
    product_type = serializers.SlugField(required=False, max_length=50)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(
            required=False, help_text="first day, YYYY-MM-DD (default: 29 days before `to`)"
        )
        return fields

    def validate(self, attrs):
        last_day = attrs.get("to") or timezone.now().astimezone(analytics_zone()).date()
        first_day = attrs.get("from") or last_day - timedelta(days=29)
        if first_day > last_day:
            raise serializers.ValidationError({"from": ["Must not be after to."]})
        if (last_day - first_day).days + 1 > settings.ANALYTICS_DAILY_MAX_DAYS:
            raise serializers.ValidationError(
                {"from": [f"The range may span at most {settings.ANALYTICS_DAILY_MAX_DAYS} days."]}
            )
        return {"first_day": first_day, "last_day": last_day, "product_type": attrs.get("product_type")}


class DailyStatsSerializer(serializers.ModelSerializer):
    class Meta:
        model = DailyStats
        exclude = ["id"]


class DailyStatsPageSerializer(serializers.Serializer):
    # "from"/"to" again; built in get_fields.
    product_type = serializers.CharField(allow_null=True)
    rows = DailyStatsSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(source="first_day")
        fields["to"] = serializers.DateField(source="last_day")
        return fields
