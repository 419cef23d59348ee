from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self):
        from orders.receivers import direct_order_delivered
        from suppliers.signals import supplier_order_delivered

        supplier_order_delivered.connect(direct_order_delivered, dispatch_uid="orders.direct_order_delivered")
