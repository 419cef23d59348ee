from django.urls import path

from analytics.api.views import DailyStatsView, DashboardDataView, JobMetricsView

urlpatterns = [
    path("metrics/jobs/", JobMetricsView.as_view(), name="job-metrics"),
    path("analytics/daily/", DailyStatsView.as_view(), name="analytics-daily"),
    path("analytics/dashboard/", DashboardDataView.as_view(), name="analytics-dashboard-data"),
]
