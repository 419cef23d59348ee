from django.urls import path

from analytics.api.views import DailyStatsView, JobMetricsView

urlpatterns = [
    path("metrics/jobs/", JobMetricsView.as_view(), name="job-metrics"),
    path("analytics/daily/", DailyStatsView.as_view(), name="analytics-daily"),
]
