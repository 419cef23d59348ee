from django.apps import AppConfig


class BatchesConfig(AppConfig):
    name = "batches"

    def ready(self):
        from batches.pooling.tasks import pooling_watchdog, request_pooling_on_orders_submitted
        from batches.receivers import batch_orders_delivered
        from orders.signals import orders_submitted
        from sleekbatch.watchdog import watchdog_register
        from suppliers.signals import supplier_order_delivered

        # Importing batches.pooling.tasks also registers the pooling tasks with Celery in
        # every process (autodiscovery only reads batches/tasks.py).
        orders_submitted.connect(request_pooling_on_orders_submitted, dispatch_uid="pooling_on_orders_submitted")
        supplier_order_delivered.connect(batch_orders_delivered, dispatch_uid="batches.batch_orders_delivered")
        # Every worker re-requests pooling for orders left waiting (a lost or stranded trigger).
        watchdog_register(pooling_watchdog)
        _landing_links()


def _landing_links():
    from django.urls import reverse

    from batches.selectors import batches_in_review
    from sleekbatch.landing import LandingLink, landing_link_add

    landing_link_add(
        LandingLink(
            "Review queue",
            lambda: reverse("admin:batches_batchinreview_changelist"),
            "Batches whose window closed at 50–74 % fill: approve, cancel and refund, or extend.",
            count=lambda: batches_in_review().count(),
            position=10,
        )
    )
