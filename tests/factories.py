"""factory_boy factories: the smallest valid object of each model."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from batches.models import BatchContribution, ProductionBatch
from orders.models import Order
from suppliers.models import Supplier, SupplierOffer, SupplierOrder


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    name = factory.Sequence(lambda n: f"Supplier {n}")
    code = factory.Sequence(lambda n: f"supplier-{n}")
    performance_score = 80


class SupplierOfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierOffer

    supplier = factory.SubFactory(SupplierFactory)
    product_type = "hoodie"
    moq = 100
    lead_time_days = 14
    max_styles = 3
    price_tiers = factory.LazyFunction(
        lambda: [{"min_quantity": 1, "unit_price": "12.00"}, {"min_quantity": 100, "unit_price": "10.00"}]
    )


class ProductionBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductionBatch

    offer = factory.SubFactory(SupplierOfferFactory)
    supplier = factory.SelfAttribute("offer.supplier")
    product_type = factory.SelfAttribute("offer.product_type")
    target_quantity = factory.SelfAttribute("offer.moq")
    max_styles = factory.SelfAttribute("offer.max_styles")
    supplier_unit_price = "10.00"
    window_closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=72))


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    buyer = factory.SubFactory(UserFactory)
    product_type = "hoodie"
    quantity = 10
    style_details = factory.LazyAttribute(lambda o: [{"style": "classic", "sizes": {"M": o.quantity}}])


class BatchContributionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BatchContribution

    batch = factory.SubFactory(ProductionBatchFactory)
    order = factory.SubFactory(OrderFactory, product_type=factory.SelfAttribute("..batch.product_type"))
    quantity_contributed = factory.SelfAttribute("order.quantity")
    style_details = factory.SelfAttribute("order.style_details")
    unit_price = "11.50"


class SupplierOrderFactory(factory.django.DjangoModelFactory):
    """A placed supplier order for one buyer's direct order (the smallest valid one)."""

    class Meta:
        model = SupplierOrder

    order_number = factory.Sequence(lambda n: f"SO-TEST-{n:06d}")
    supplier = factory.SubFactory(SupplierFactory)
    buyer_order = factory.SubFactory(OrderFactory, quantity=100, workflow_status="confirmed", is_batch_order=False)
    product_type = factory.SelfAttribute("buyer_order.product_type")
    quantity = factory.SelfAttribute("buyer_order.quantity")
    supplier_price = "9.00"
    promised_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=14))
