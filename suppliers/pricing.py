"""The pricing calculator: all-units volume tiers, the buyer's margin and the style surcharge.

A supplier's ``price_tiers`` are all-units tiers, lowest quantity first::

    [{"min_quantity": 1, "unit_price": "12.00"}, {"min_quantity": 100, "unit_price": "10.00"}]

"All-units" means the tier a quantity falls into prices every unit of it: 150 units
above cost 150 × 10.00. The buyer pays the supplier's tier price at the batch target
plus a margin, plus a surcharge for each style beyond the first (a style change costs
the factory a line change). Money is Decimal, rounded half-up to cents once, at the end.
"""

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError

CENT = Decimal("0.01")
# The largest price an order's unit_price column (10 digits, 2 decimals) can hold.
MAX_UNIT_PRICE = Decimal("99999999.99")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def validate_price_tiers(tiers: object) -> list[tuple[int, Decimal]]:
    """Check a tier list and return it as ``[(min_quantity, unit_price), ...]``.

    Rules: a non-empty list; the first tier starts at 1 (every quantity has a price);
    min_quantity strictly increases (contiguous tiers, no overlap); every price is a
    positive amount in cents; no tier is dearer than the one below it.
    """
    if not isinstance(tiers, list) or not tiers:
        raise ValidationError("Price tiers must be a non-empty list of {min_quantity, unit_price}.", code="empty")
    parsed: list[tuple[int, Decimal]] = []
    for position, tier in enumerate(tiers, start=1):
        if not isinstance(tier, Mapping) or set(tier) != {"min_quantity", "unit_price"}:
            raise ValidationError(
                f"Tier {position} must have exactly the keys min_quantity and unit_price.", code="shape"
            )
        min_quantity = tier["min_quantity"]
        if isinstance(min_quantity, bool) or not isinstance(min_quantity, int) or min_quantity < 1:
            raise ValidationError(f"Tier {position}: min_quantity must be a whole number ≥ 1.", code="min_quantity")
        unit_price = _parse_price(tier["unit_price"], position)
        if parsed:
            below_quantity, below_price = parsed[-1]
            if min_quantity <= below_quantity:
                raise ValidationError(
                    f"Tier {position}: min_quantity {min_quantity} must be above the previous tier's {below_quantity}.",
                    code="order",
                )
            if unit_price > below_price:
                raise ValidationError(
                    f"Tier {position}: unit price {unit_price} is dearer than the tier below ({below_price}).",
                    code="dearer",
                )
        elif min_quantity != 1:
            raise ValidationError("The first tier must start at min_quantity 1.", code="first")
        parsed.append((min_quantity, unit_price))
    return parsed


def _parse_price(value: object, position: int) -> Decimal:
    # Strings (or ints) only: a float such as 9.99 is not exactly 9.99.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValidationError(f"Tier {position}: unit_price must be a decimal string such as '9.50'.", code="price")
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise ValidationError(f"Tier {position}: unit_price {value!r} is not a number.", code="price")
    if not price.is_finite() or price <= 0:
        raise ValidationError(f"Tier {position}: unit_price must be above zero.", code="price")
    if price > MAX_UNIT_PRICE:
        # Also keeps quantize() below from raising InvalidOperation on a huge value such as 1e30.
        raise ValidationError(f"Tier {position}: unit_price must be at most {MAX_UNIT_PRICE}.", code="price")
    if price != price.quantize(CENT):
        raise ValidationError(f"Tier {position}: unit_price {value} has more than two decimals.", code="price")
    return price


def tier_unit_price(tiers: Iterable[Mapping], quantity: int) -> Decimal:
    """The supplier's unit price for ``quantity`` units (all-units: the highest tier reached)."""
    return price_at(validate_price_tiers(list(tiers)), quantity)


def price_at(parsed_tiers: list[tuple[int, Decimal]], quantity: int) -> Decimal:
    """``tier_unit_price`` on tiers already validated (hot paths validate once, then price many)."""
    if quantity < 1:
        raise ValueError(f"quantity must be ≥ 1, got {quantity}")
    price = parsed_tiers[0][1]
    for min_quantity, unit_price in parsed_tiers:
        if quantity < min_quantity:
            break
        price = unit_price
    return price


def buyer_unit_price_from_supplier_price(
    *, supplier_unit_price: Decimal, style_count: int, margin=None, surcharge=None
) -> Decimal:
    """Supplier unit price × (1 + margin) + surcharge × (styles beyond the first), half-up to cents."""
    margin = Decimal(str(settings.PRICING_MARGIN if margin is None else margin))
    surcharge = Decimal(str(settings.PRICING_STYLE_SURCHARGE if surcharge is None else surcharge))
    extra_styles = max(style_count - 1, 0)
    return to_cents(Decimal(supplier_unit_price) * (1 + margin) + surcharge * extra_styles)


def buyer_unit_price(*, tiers: Iterable[Mapping], target_quantity: int, style_count: int, margin=None, surcharge=None):
    """What a buyer pays per unit in a run of ``target_quantity`` units with ``style_count`` styles."""
    return buyer_unit_price_from_supplier_price(
        supplier_unit_price=tier_unit_price(tiers, target_quantity),
        style_count=style_count,
        margin=margin,
        surcharge=surcharge,
    )
