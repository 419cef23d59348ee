from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from suppliers.pricing import buyer_unit_price, tier_unit_price, validate_price_tiers
from tests.factories import SupplierOfferFactory

TIERS = [
    {"min_quantity": 1, "unit_price": "12.00"},
    {"min_quantity": 100, "unit_price": "10.00"},
    {"min_quantity": 250, "unit_price": "9.40"},
]


def tiers(*pairs):
    return [{"min_quantity": quantity, "unit_price": price} for quantity, price in pairs]


def test_it_accepts_contiguous_tiers_that_never_get_dearer():
    # given / when
    parsed = validate_price_tiers(tiers((1, "5.00"), (50, "5.00"), (200, "4.10")))

    # then
    assert parsed == [(1, Decimal("5.00")), (50, Decimal("5.00")), (200, Decimal("4.10"))]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([], "non-empty list"),
        ("1:9.00", "non-empty list"),
        (tiers((2, "9.00")), "first tier must start at min_quantity 1"),
        (tiers((1, "9.00"), (100, "8.00"), (100, "7.00")), "must be above the previous tier's 100"),
        (tiers((1, "9.00"), (100, "8.00"), (50, "7.00")), "must be above the previous tier's 100"),
        (tiers((1, "9.00"), (100, "9.01")), "dearer than the tier below"),
        (tiers((1, "0.00")), "above zero"),
        (tiers((1, "-1.00")), "above zero"),
        (tiers((1, 9.99)), "decimal string"),
        (tiers((1, "9.999")), "more than two decimals"),
        (tiers((1, "nine")), "not a number"),
        (tiers((1, "NaN")), "above zero"),
        (tiers((0, "9.00")), "whole number ≥ 1"),
        (tiers((True, "9.00")), "whole number ≥ 1"),
        ([{"min_quantity": 1}], "exactly the keys"),
        ([{"min_quantity": 1, "unit_price": "9.00", "currency": "EUR"}], "exactly the keys"),
    ],
)
def test_it_rejects_invalid_tiers_with_a_clear_message(bad, message):
    # when
    with pytest.raises(ValidationError) as error:
        validate_price_tiers(bad)

    # then
    assert message in error.value.messages[0]


@pytest.mark.parametrize(
    ("quantity", "price"),
    [(1, "12.00"), (99, "12.00"), (100, "10.00"), (101, "10.00"), (249, "10.00"), (250, "9.40"), (100_000, "9.40")],
)
def test_it_prices_every_unit_at_the_tier_the_quantity_reaches(quantity, price):
    assert tier_unit_price(TIERS, quantity) == Decimal(price)


def test_it_refuses_to_price_nothing():
    with pytest.raises(ValueError):
        tier_unit_price(TIERS, 0)


def test_it_adds_the_margin_to_the_tier_price_at_the_target():
    # 10.00 × 1.15 = 11.50
    assert buyer_unit_price(tiers=TIERS, target_quantity=100, style_count=1, margin="0.15") == Decimal("11.50")
    # 12.00 × 1.15 = 13.80: one unit below the tier edge
    assert buyer_unit_price(tiers=TIERS, target_quantity=99, style_count=1, margin="0.15") == Decimal("13.80")


def test_it_adds_a_surcharge_per_style_beyond_the_first():
    # given
    price = {"tiers": TIERS, "target_quantity": 100, "margin": "0.15", "surcharge": "0.50"}

    # then: 11.50, then + 0.50 per extra style
    assert buyer_unit_price(**price, style_count=1) == Decimal("11.50")
    assert buyer_unit_price(**price, style_count=2) == Decimal("12.00")
    assert buyer_unit_price(**price, style_count=4) == Decimal("13.00")


def test_it_rounds_half_up_to_cents_not_to_even():
    # 10.30 × 1.15 = 11.845 exactly: half-up gives 11.85 (banker's rounding would give 11.84)
    assert buyer_unit_price(tiers=tiers((1, "10.30")), target_quantity=1, style_count=1, margin="0.15") == Decimal(
        "11.85"
    )
    # 10.03 × 1.15 = 11.5345: below the half, down
    assert buyer_unit_price(tiers=tiers((1, "10.03")), target_quantity=1, style_count=1, margin="0.15") == Decimal(
        "11.53"
    )


def test_it_reads_margin_and_surcharge_from_settings_by_default(settings):
    # given
    settings.PRICING_MARGIN = "0.20"
    settings.PRICING_STYLE_SURCHARGE = "1.00"

    # when: 10.00 × 1.20 + 1.00 × 2
    price = buyer_unit_price(tiers=TIERS, target_quantity=100, style_count=3)

    # then
    assert price == Decimal("14.00")


@pytest.mark.django_db
def test_it_validates_an_offers_tiers_when_the_offer_is_cleaned():
    # given
    offer = SupplierOfferFactory.build(price_tiers=tiers((1, "9.00"), (100, "9.50")))

    # when
    with pytest.raises(ValidationError) as error:
        offer.clean()

    # then
    assert "dearer than the tier below" in error.value.message_dict["price_tiers"][0]
