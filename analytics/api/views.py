"""Analytics API: job metrics and daily rollups (operations staff)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.api.serializers import (
    DailyStatsPageSerializer,
    DailyStatsQuerySerializer,
    JobMetricsQuerySerializer,
    JobMetricsSerializer,
)
from analytics.selectors import daily_stats_between, job_metrics_between
from sleekbatch.roles import IsOps


class JobMetricsView(APIView):
    permission_classes = [IsOps]

    @extend_schema(parameters=[JobMetricsQuerySerializer], responses=JobMetricsSerializer)
    def get(self, request):
        """Per task name over the window (default: the last hour): runs, outcomes, latency, memory, last error."""
        query = JobMetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        window = query.validated_data
        tasks = job_metrics_between(since=window["since"], until=window["until"])
        return Response(JobMetricsSerializer({**window, "tasks": tasks}).data)


class DailyStatsView(APIView):
    permission_classes = [IsOps]

    @extend_schema(parameters=[DailyStatsQuerySerializer], responses=DailyStatsPageSerializer)
    def get(self, request):
        """Daily rollup rows, one per day and product type (default: the last 30 days); idle days have none."""
        query = DailyStatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = daily_stats_between(**query.validated_data)
        return Response(DailyStatsPageSerializer({**query.validated_data, "rows": rows}).data)
