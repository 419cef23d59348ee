"""Analytics API: job metrics and daily rollups (operations staff)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.api.serializers import JobMetricsQuerySerializer, JobMetricsSerializer
from analytics.selectors import job_metrics_between
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
