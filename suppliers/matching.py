"""Supplier matching: which offer a new batch (or a direct order) goes to.

Among the active offers of active suppliers for a product type that can run the order's
styles (``offer_choose``):
1. a supplier in ``poor`` standing is left out while any other offer can make the product;
2. the lowest buyer unit price at the offer's own target (its MOQ) sets a price band
   (SUPPLIER_MATCH_PRICE_BAND_PERCENT, default 2 % above it);
3. within the band the higher supplier score wins (a ``new`` supplier, not scored yet, counts
   as SUPPLIER_MATCH_NEW_SUPPLIER_SCORE); then the lower price, the shorter lead time, the
   older offer, so the choice is deterministic.
An offer whose tiers fail validation is skipped and logged rather than stopping every order
of its product type. Open batches keep their supplier: matching only picks for new ones.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError

from suppliers.models import SupplierOffer
from suppliers.pricing import buyer_unit_price_from_supplier_price, price_at, validate_price_tiers
from suppliers.scoring import Standing

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MatchedOffer:
    offer_id: int
    supplier_id: int
    product_type: str
    moq: int
    max_styles: int
    lead_time_days: int
    performance_score: Decimal | None  # None: a new supplier, not scored yet
    standing: str
    tiers: tuple[tuple[int, Decimal], ...]
    # Supplier tier price at the MOQ, and the one-style buyer price there (the ranking key).
    supplier_unit_price: Decimal
    buyer_unit_price: Decimal

    def supplier_price_at(self, quantity: int) -> Decimal:
        return price_at(list(self.tiers), quantity)

    @property
    def rank_key(self) -> tuple:
        """Cheapest first (the order offers are kept in; the price band starts at the first)."""
        return (self.buyer_unit_price, self.lead_time_days, self.offer_id)

    def matching_score(self, new_supplier_score: Decimal) -> Decimal:
        return self.performance_score if self.performance_score is not None else new_supplier_score


def offer_choose(
    offers: list[MatchedOffer], *, style_count: int, band_percent: Decimal, new_supplier_score: Decimal
) -> MatchedOffer | None:
    """The offer a new batch goes to, from offers sorted by ``rank_key`` (see the module docstring)."""
    able = [offer for offer in offers if offer.max_styles >= style_count]
    eligible = [offer for offer in able if offer.standing != Standing.POOR] or able
    if not eligible:
        return None
    ceiling = eligible[0].buyer_unit_price * (1 + band_percent / 100)
    in_band = [offer for offer in eligible if offer.buyer_unit_price <= ceiling]
    return min(in_band, key=lambda offer: (-offer.matching_score(new_supplier_score), *offer.rank_key))


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
        "supplier__standing",
        "price_tiers",
    )
    for offer_id, supplier_id, product_type, moq, max_styles, lead_time_days, score, standing, raw_tiers in rows:
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
                standing=standing,
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
        self._chosen: dict[tuple[str, int], MatchedOffer | None] = {}
        self._band_percent = Decimal(str(settings.SUPPLIER_MATCH_PRICE_BAND_PERCENT))
        self._new_supplier_score = Decimal(str(settings.SUPPLIER_MATCH_NEW_SUPPLIER_SCORE))

    def load(self, product_types: Iterable[str]) -> None:
        missing = {product_type for product_type in product_types if product_type not in self._ranked}
        if missing:
            self._ranked.update(offers_ranked(product_types=missing))

    def best(self, *, product_type: str, style_count: int = 1) -> MatchedOffer | None:
        """The best offer whose runs can hold ``style_count`` styles, or None."""
        key = (product_type, style_count)
        if key not in self._chosen:  # asked once per order: remember the answer for the drain
            self.load([product_type])
            self._chosen[key] = offer_choose(
                self._ranked[product_type],
                style_count=style_count,
                band_percent=self._band_percent,
                new_supplier_score=self._new_supplier_score,
            )
        return self._chosen[key]

    def has_any(self, product_type: str) -> bool:
        self.load([product_type])
        return bool(self._ranked[product_type])
