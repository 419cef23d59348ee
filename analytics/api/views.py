"""Analytics API: job metrics and daily rollups (operations staff), Prometheus metrics."""

from datetime import date, datetime
from decimal import Decimal

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from analytics.api.permissions import IsOpsOrScraper, ScraperTokenAuthentication
from analytics.api.serializers import (
    DailyStatsPageSerializer,
    DailyStatsQuerySerializer,
    JobMetricsQuerySerializer,
    JobMetricsSerializer,
)
from analytics.dashboard import dashboard_panels
from analytics.prometheus import metrics_text
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
        window = query.validated_data
        # Plain values, not a serializer per row: a year of rows for every product type is
        # thousands of rows, and DRF's field-by-field rendering was most of this answer's time.
        return Response(
            {
                "from": window["first_day"].isoformat(),
                "to": window["last_day"].isoformat(),
                "product_type": window["product_type"],
                "rows": [_daily_row(row) for row in daily_stats_between(**window)],
            }
        )


def _daily_row(row: dict) -> dict:
    """As DailyStatsSerializer writes it: dates in ISO form, amounts as strings with cents."""
    return {
        name: value.isoformat()
        if isinstance(value, date | datetime)
        else f"{value:.2f}"
        if isinstance(value, Decimal)
        else value
        for name, value in row.items()
    }


class PrometheusMetricsView(APIView):
    """Prometheus text format; for the scraper (bearer token) and operations staff."""

    authentication_classes = [ScraperTokenAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    permission_classes = [IsOpsOrScraper]
    throttle_classes = []  # one scraper every 15 s per replica; nothing to throttle

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request):
        """Task, queue, worker, sweep, order and batch metrics (see docs/metrics.md)."""
        return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_PLAIN_0_0_4)


class DashboardDataView(APIView):
    """Every panel of the ops dashboard in one answer; the page polls it."""

    permission_classes = [IsOps]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        """Batches by status, open-batch fill histogram, review queue, orders and jobs per hour,
        recent failures, orders and revenue by day."""
        return Response(dashboard_panels())
