from django.apps import AppConfig
from django.contrib import admin


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self):
        from analytics.signals import analytics_receivers_connect

        analytics_receivers_connect()
        # The admin index links to the ops dashboard (a template that extends admin/index.html).
        admin.site.index_template = "analytics/admin_index.html"
        from analytics.reports import tasks  # noqa: F401 - registers the reports.* tasks
        from sleekbatch.landing import LandingLink, landing_link_add

        landing_link_add(
            LandingLink(
                "Dashboard",
                "/ops/dashboard/",
                "Batches by status and fill, the review queue, orders and jobs per hour, recent failures.",
                position=5,
            )
        )
