from django.apps import AppConfig


class BatchesConfig(AppConfig):
    name = "batches"

    def ready(self):
        from batches.pooling.tasks import request_pooling_on_orders_submitted
        from orders.signals import orders_submitted

        # Importing batches.pooling.tasks also registers the pooling tasks with Celery in
        # every process (autodiscovery only reads batches/tasks.py).
        orders_submitted.connect(request_pooling_on_orders_submitted, dispatch_uid="pooling_on_orders_submitted")
