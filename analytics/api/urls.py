from django.urls import path

from analytics.api.views import JobMetricsView

urlpatterns = [
    path("metrics/jobs/", JobMetricsView.as_view(), name="job-metrics"),
]
