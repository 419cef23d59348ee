from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self):
        from analytics.signals import analytics_receivers_connect

        analytics_receivers_connect()
