from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "The main job on the embedded default: a simulation of buyers, pooling and orchestration."

    def handle(self, *args, **options):
        from suppliers.models import SupplierOffer

        self.stdout.write(f"{SupplierOffer.objects.count()} supplier offers ready")
