"""Reads for orders: what a user may see, and the product catalogue intake validates against."""

import threading
import time
import uuid
from dataclasses import dataclass

from django.db.models import F, Max, QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from orders.models import Order
from sleekbatch.roles import OPS, has_role
from suppliers.models import Supplier, SupplierOffer

# How long a web process trusts its copy of the catalogue. Intake validates
# every order against it, and querying offers on each POST would be the second
# most expensive statement of the request. A stale copy can only be too
# permissive (see product_catalog_lookup), and pooling re-checks offers anyway.
PRODUCT_CATALOG_TTL_SECONDS = 30.0


@dataclass(frozen=True)
class ProductRules:
    product_type: str
    # The largest max_styles among the active offers: an order with more
    # distinct styles than this fits no supplier's batch.
    max_styles: int


class _ProductCatalogCache:
    def __init__(self):
        self._lock = threading.Lock()
        self._rules: dict[str, ProductRules] = {}
        self._expires_at = 0.0

    def get(self) -> dict[str, ProductRules] | None:
        if time.monotonic() >= self._expires_at:
            return None
        return self._rules

    def put(self, rules: dict[str, ProductRules]) -> None:
        with self._lock:
            self._rules = rules
            self._expires_at = time.monotonic() + PRODUCT_CATALOG_TTL_SECONDS

    def clear(self) -> None:
        with self._lock:
            self._rules = {}
            self._expires_at = 0.0


_catalog = _ProductCatalogCache()


def product_catalog_load() -> dict[str, ProductRules]:
    """Every product type with an active offer from an active supplier (one query)."""
    rows = (
        SupplierOffer.objects.filter(is_active=True, supplier__is_active=True)
        .values("product_type")
        .annotate(max_styles=Max("max_styles"))
        .order_by()
    )
    return {row["product_type"]: ProductRules(row["product_type"], row["max_styles"]) for row in rows}


def product_catalog_get(*, refresh: bool = False) -> dict[str, ProductRules]:
    rules = None if refresh else _catalog.get()
    if rules is None:
        rules = product_catalog_load()
        _catalog.put(rules)
    return rules


def product_catalog_clear() -> None:
    _catalog.clear()


def product_catalog_lookup(*, product_types: set[str], styles_needed: dict[str, int]) -> dict[str, ProductRules]:
    """Rules for the given product types, from the cached catalogue when it can say yes.

    A cached answer that would *reject* (unknown product type, too few styles)
    is confirmed against the database first, so a new offer is usable at once
    and no order is refused because of a stale copy.
    """
    catalog = product_catalog_get()
    if all(
        product_type in catalog and catalog[product_type].max_styles >= styles_needed.get(product_type, 0)
        for product_type in product_types
    ):
        return catalog
    return product_catalog_get(refresh=True)


@receiver(post_save, sender=SupplierOffer)
@receiver(post_delete, sender=SupplierOffer)
@receiver(post_save, sender=Supplier)
@receiver(post_delete, sender=Supplier)
def _offers_changed(**kwargs) -> None:
    # Only this process learns of the change; others catch up within the TTL.
    product_catalog_clear()


def order_visible_to(*, user) -> QuerySet[Order]:
    """Ops see every order, a buyer only their own."""
    orders = Order.objects.annotate(contribution_batch_id=F("contribution__batch_id"))
    if has_role(user, OPS):
        return orders
    return orders.filter(buyer=user)


def order_list(*, user, status: str | None = None) -> QuerySet[Order]:
    orders = order_visible_to(user=user)
    if status:
        orders = orders.filter(workflow_status=status)
    return orders


def order_get(*, user, order_id: uuid.UUID) -> Order | None:
    return order_visible_to(user=user).filter(pk=order_id).first()


def order_get_by_idempotency_key(*, buyer, idempotency_key: str) -> Order | None:
    return Order.objects.filter(buyer=buyer, idempotency_key=idempotency_key).first()
