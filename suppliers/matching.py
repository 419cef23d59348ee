"""Supplier matching: which offer a new batch (or a direct order) goes to.

Rank the active offers of active suppliers for a product type by the buyer unit price
at the offer's own target (its MOQ), lowest first; ties go to the higher supplier
performance score, then the shorter lead time, then the older offer (so the choice
is deterministic). An offer whose tiers fail validation is skipped and logged rather
than stopping every order of its product type.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError

from suppliers.models import SupplierOffer
from suppliers.pricing import buyer_unit_price_from_supplier_price, price_at, validate_price_tiers

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MatchedOffer:
    offer_id: int
    supplier_id: int
    product_type: str
    moq: int
    max_styles: int
    lead_time_days: int
    performance_score: Decimal
    tiers: tuple[tuple[int, Decimal], ...]
    # Supplier tier price at the MOQ, and the one-style buyer price there (the ranking key).
    supplier_unit_price: Decimal
    buyer_unit_price: Decimal

    def supplier_price_at(self, quantity: int) -> Decimal:
        return price_at(list(self.tiers), quantity)

    @property
    def rank_key(self) -> tuple:
        return (self.buyer_unit_price, -self.performance_score, self.lead_time_days, self.offer_id)


def offers_ranked(*, product_types: Iterable[str]) -> dict[str, list[MatchedOffer]]:
    """Matchable offers per product type, best first (one query for all the product types)."""
    ranked: dict[str, list[MatchedOffer]] = {product_type: [] for product_type in product_types}
    rows = SupplierOffer.objects.filter(
        product_type__in=list(ranked), is_active=True, supplier__is_active=True
    ).values_list(
        "id",
        "supplier_id",
        "product_type",
        "moq",
        "max_styles",
        "lead_time_days",
        "supplier__performance_score",
        "price_tiers",
    )
    for offer_id, supplier_id, product_type, moq, max_styles, lead_time_days, score, raw_tiers in rows:
        try:
            tiers = validate_price_tiers(raw_tiers)
        except ValidationError as exc:
            logger.warning("offer_skipped_invalid_tiers", extra={"offer_id": offer_id, "error": exc.messages[0]})
            continue
        supplier_unit_price = price_at(tiers, moq)
        ranked[product_type].append(
            MatchedOffer(
                offer_id=offer_id,
                supplier_id=supplier_id,
                product_type=product_type,
                moq=moq,
                max_styles=max_styles,
                lead_time_days=lead_time_days,
                performance_score=score,
                tiers=tuple(tiers),
                supplier_unit_price=supplier_unit_price,
                buyer_unit_price=buyer_unit_price_from_supplier_price(
                    supplier_unit_price=supplier_unit_price, style_count=1
                ),
            )
        )
    for offers in ranked.values():
        offers.sort(key=lambda offer: offer.rank_key)
    return ranked


def offer_best(*, product_type: str, style_count: int = 1) -> MatchedOffer | None:
    return OfferBook().best(product_type=product_type, style_count=style_count)


class OfferBook:
    """Ranked offers looked up once per product type and kept for one drain.

    A drain pools thousands of orders of a few product types; asking the database
    per order would cost more than pooling them. A drain is short (seconds), so an
    offer edited meanwhile applies from the next drain on.
    """

    def __init__(self):
        self._ranked: dict[str, list[MatchedOffer]] = {}

    def load(self, product_types: Iterable[str]) -> None:
        missing = {product_type for product_type in product_types if product_type not in self._ranked}
        if missing:
            self._ranked.update(offers_ranked(product_types=missing))

    def best(self, *, product_type: str, style_count: int = 1) -> MatchedOffer | None:
        """The best offer whose runs can hold ``style_count`` styles, or None."""
        self.load([product_type])
        for offer in self._ranked[product_type]:
            if offer.max_styles >= style_count:
                return offer
        return None

    def has_any(self, product_type: str) -> bool:
        self.load([product_type])
        return bool(self._ranked[product_type])
