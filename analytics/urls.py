"""Analytics pages outside /api/: the Prometheus endpoint and the ops dashboard."""

from django.urls import path

from analytics.api.views import PrometheusMetricsView

urlpatterns = [
    path("metrics", PrometheusMetricsView.as_view(), name="prometheus-metrics"),
]
