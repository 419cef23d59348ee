from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class SuppliersConfig(AppConfig):
    name = "suppliers"

    def ready(self):
        from suppliers.catalog import catalog_clear
        from suppliers.models import Supplier, SupplierOffer

        for sender in (Supplier, SupplierOffer):
            for signal in (post_save, post_delete):
                signal.connect(catalog_clear, sender=sender, dispatch_uid=f"catalog_clear_{sender.__name__}")
