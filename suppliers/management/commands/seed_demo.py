from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from sleekbatch.roles import BUYER, OPS, SUPPLIER, assign_role
from suppliers.models import Supplier, SupplierOffer
from suppliers.services import supplier_membership_set

# (code, name, {product_type: (moq, lead days, max styles, tiers)}); scores come from deliveries.
DEMO_SUPPLIERS = [
    (
        "dhaka-knits",
        "Dhaka Knits",
        {
            "hoodie": (300, 21, 4, [(1, "14.00"), (150, "12.50"), (300, "11.00"), (600, "10.00")]),
            "tee": (200, 14, 5, [(1, "5.00"), (100, "4.40"), (200, "3.90"), (500, "3.50")]),
        },
    ),
    (
        "porto-textil",
        "Porto Têxtil",
        {
            "hoodie": (400, 18, 3, [(1, "15.00"), (200, "12.80"), (400, "11.00"), (800, "10.20")]),
            "cap": (150, 10, 3, [(1, "4.20"), (150, "3.10"), (400, "2.80")]),
        },
    ),
    (
        "izmir-apparel",
        "Izmir Apparel",
        {
            "tee": (250, 12, 4, [(1, "5.20"), (250, "4.10"), (600, "3.70")]),
            "tote": (250, 9, 2, [(1, "3.00"), (250, "2.20"), (500, "1.90")]),
        },
    ),
]
DEMO_USERS = [("ops", OPS), ("buyer1", BUYER), ("buyer2", BUYER), ("buyer3", BUYER)]
# One user per supplier (username, supplier code): they acknowledge, ship and deliver its orders.
DEMO_SUPPLIER_USERS = [("dhaka", "dhaka-knits"), ("porto", "porto-textil"), ("izmir", "izmir-apparel")]


class Command(BaseCommand):
    help = "Create demo suppliers, offers and users (idempotent). Demo passwords equal the usernames."

    @transaction.atomic
    def handle(self, *args, **options):
        for code, name, offers in DEMO_SUPPLIERS:
            supplier, _ = Supplier.objects.update_or_create(code=code, defaults={"name": name, "is_active": True})
            for product_type, (moq, lead, max_styles, tiers) in offers.items():
                SupplierOffer.objects.update_or_create(
                    supplier=supplier,
                    product_type=product_type,
                    defaults={
                        "moq": moq,
                        "lead_time_days": lead,
                        "max_styles": max_styles,
                        "price_tiers": [{"min_quantity": q, "unit_price": p} for q, p in tiers],
                        "is_active": True,
                    },
                )
        User = get_user_model()
        for username, role in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(username)
                user.save()
            assign_role(user, role)
            if role == OPS and not user.email:
                user.email = f"{username}@localhost"  # supplier alerts are mailed to ops users (var/mail/)
                user.save(update_fields=["email"])
        for username, code in DEMO_SUPPLIER_USERS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(username)
                user.save()
            assign_role(user, SUPPLIER)
            supplier_membership_set(user=user, supplier=Supplier.objects.get(code=code))
        self.stdout.write(
            f"seeded {Supplier.objects.count()} suppliers, {SupplierOffer.objects.count()} offers, "
            f"users: {', '.join(u for u, _ in DEMO_USERS + DEMO_SUPPLIER_USERS)} (password = username)"
        )
