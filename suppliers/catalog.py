"""The product catalogue: which product types an active supplier offers, and how many styles
at most; order intake validates every order against it."""

from dataclasses import dataclass

from django.db.models import Max

from sleekbatch.ttl_cache import TTLCache
from suppliers.models import SupplierOffer

# How long a process trusts its copy of the catalogue. Intake validates every order
# against it, and querying offers on each POST would be the second most expensive
# statement of the request. A stale copy can only be too permissive (see
# catalog_lookup), and pooling re-checks offers anyway.
CATALOG_TTL_SECONDS = 30.0

_CATALOG_KEY = "catalog"
_cache = TTLCache(ttl_seconds=CATALOG_TTL_SECONDS, max_entries=1)


@dataclass(frozen=True)
class ProductRules:
    product_type: str
    # The largest max_styles among the active offers: an order with more
    # distinct styles than this fits no supplier's batch.
    max_styles: int


def catalog_load() -> dict[str, ProductRules]:
    """Every product type with an active offer from an active supplier (one query, no cache)."""
    rows = (
        SupplierOffer.objects.filter(is_active=True, supplier__is_active=True)
        .values("product_type")
        .annotate(max_styles=Max("max_styles"))
        .order_by()
    )
    return {row["product_type"]: ProductRules(row["product_type"], row["max_styles"]) for row in rows}


def catalog_get(*, refresh: bool = False) -> dict[str, ProductRules]:
    rules = None if refresh else _cache.get(_CATALOG_KEY)
    if rules is None:
        rules = catalog_load()
        _cache.put(_CATALOG_KEY, rules)
    return rules


def catalog_clear(**signal_kwargs) -> None:
    """Forget this process's copy (also the receiver of offer and supplier changes, connected in
    ``SuppliersConfig.ready()``: only this process learns of a change, others within the TTL)."""
    _cache.clear()


def catalog_lookup(*, product_types: set[str], styles_needed: dict[str, int]) -> dict[str, ProductRules]:
    """Rules for the given product types, from the cached catalogue when it can say yes.

    A cached answer that would *reject* (unknown product type, too few styles)
    is confirmed against the database first, so a new offer is usable at once
    and no order is refused because of a stale copy.
    """
    catalog = catalog_get()
    if all(
        product_type in catalog and catalog[product_type].max_styles >= styles_needed.get(product_type, 0)
        for product_type in product_types
    ):
        return catalog
    return catalog_get(refresh=True)
