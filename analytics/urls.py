"""Analytics pages outside /api/: the Prometheus endpoint and the ops dashboard."""

from django.urls import path

from analytics.api.views import PrometheusMetricsView
from analytics.views import ops_dashboard

urlpatterns = [
    path("metrics", PrometheusMetricsView.as_view(), name="prometheus-metrics"),
    path("ops/dashboard/", ops_dashboard, name="ops-dashboard"),
]
