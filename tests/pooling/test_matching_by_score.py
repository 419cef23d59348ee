"""Matching follows the supplier scorecard: poor suppliers left out, a price band won by the better score."""

from decimal import Decimal

import pytest

from batches.models import ProductionBatch
from batches.pooling import pooling_claim
from suppliers.matching import OfferBook, offer_best
from suppliers.scorecard import suppliers_score
from tests.factories import SupplierFactory, SupplierOfferFactory
from tests.pooling.conftest import open_batch, submitted
from tests.suppliers.conftest import delivered_order


def offer(*, price_at_moq: str, score=None, standing="new", max_styles=3, moq=100, **supplier_fields):
    """An offer whose buyer price at the target is price_at_moq × 1.15 (the default margin)."""
    supplier = SupplierFactory(performance_score=score, standing=standing, **supplier_fields)
    return SupplierOfferFactory(
        supplier=supplier,
        moq=moq,
        max_styles=max_styles,
        price_tiers=[{"min_quantity": 1, "unit_price": "20.00"}, {"min_quantity": moq, "unit_price": price_at_moq}],
    )


@pytest.fixture(autouse=True)
def _rules(settings):
    settings.SUPPLIER_MATCH_PRICE_BAND_PERCENT = 2
    settings.SUPPLIER_MATCH_NEW_SUPPLIER_SCORE = 50
    settings.PRICING_MARGIN = "0.15"


@pytest.mark.django_db
def test_a_poor_supplier_is_left_out_while_another_offer_can_make_the_product():
    # given: the poor supplier is far cheaper
    offer(price_at_moq="7.00", score=Decimal("30"), standing="poor")
    fair = offer(price_at_moq="9.00", score=Decimal("65"), standing="good")

    # then
    assert offer_best(product_type="hoodie").offer_id == fair.id


@pytest.mark.django_db
def test_a_poor_supplier_still_gets_what_nobody_else_can_make():
    # given: only the poor supplier runs four styles
    poor = offer(price_at_moq="9.50", score=Decimal("30"), standing="poor", max_styles=4)
    offer(price_at_moq="9.00", score=Decimal("90"), standing="excellent", max_styles=3)

    # then
    assert OfferBook().best(product_type="hoodie", style_count=4).offer_id == poor.id
    assert OfferBook().best(product_type="hoodie", style_count=3).supplier_id != poor.supplier_id


@pytest.mark.django_db
def test_within_the_price_band_the_better_score_wins_and_beyond_it_the_price_does():
    # given: 10.00 is the cheapest; 10.20 is exactly 2 % dearer, 10.21 just beyond
    offer(price_at_moq="10.00", score=Decimal("61"), standing="good")
    in_band = offer(price_at_moq="10.20", score=Decimal("85"), standing="excellent")
    offer(price_at_moq="10.21", score=Decimal("99"), standing="excellent")

    # then
    assert offer_best(product_type="hoodie").offer_id == in_band.id


@pytest.mark.django_db
def test_a_new_supplier_ranks_at_the_neutral_score():
    # given: at the same price, a new supplier (counted as 50) beats "watch" at 45, loses to "good" at 60
    newcomer = offer(price_at_moq="10.00")
    offer(price_at_moq="10.00", score=Decimal("45"), standing="watch")
    assert offer_best(product_type="hoodie").offer_id == newcomer.id

    good = offer(price_at_moq="10.00", score=Decimal("60"), standing="good")
    assert offer_best(product_type="hoodie").offer_id == good.id


@pytest.mark.django_db(transaction=True)
def test_matching_changes_its_choice_when_a_score_drops_and_the_batch_records_the_score(settings):
    # given: two offers 1 % apart; the dearer one belongs to the better supplier
    settings.SUPPLIER_SCORE_MIN_DELIVERIES = 3
    cheap = offer(price_at_moq="10.00", name="Cheap Co")
    better = offer(price_at_moq="10.10", name="Better Co")
    for _ in range(3):
        delivered_order(cheap.supplier, days_late=6)  # all late: 60 → good
        delivered_order(better.supplier)  # flawless: 100 → excellent
    suppliers_score()
    submitted(quantity=10, product_type="hoodie")
    pooling_claim()
    first = ProductionBatch.objects.get()
    assert (first.supplier_id, first.matched_score) == (better.supplier_id, Decimal("100.00"))

    # when: the better supplier's deliveries go badly (late, short, defective) and it is rescored poor
    for _ in range(9):
        delivered_order(better.supplier, days_late=9, delivered_units=80, defective_units=40)
    suppliers_score()
    better.supplier.refresh_from_db()
    assert better.supplier.standing == "poor"
    ProductionBatch.objects.filter(id=first.id).update(batch_status=ProductionBatch.Status.CANCELLED)
    submitted(quantity=10, product_type="hoodie")
    pooling_claim()

    # then: the new batch goes to the other supplier, at the score it had then
    second = ProductionBatch.objects.exclude(id=first.id).get()
    assert (second.supplier_id, second.matched_score) == (cheap.supplier_id, Decimal("60.00"))


@pytest.mark.django_db(transaction=True)
def test_open_batches_keep_their_supplier_when_its_standing_drops():
    # given: an open batch of a supplier that has since become poor, and a good alternative
    poor = offer(price_at_moq="10.00", score=Decimal("20"), standing="poor")
    offer(price_at_moq="10.00", score=Decimal("90"), standing="excellent")
    batch = open_batch(poor, current=40)
    submitted(quantity=10, product_type="hoodie")

    # when
    pooling_claim()

    # then: the order joins the open batch; nothing was moved to another supplier
    batch.refresh_from_db()
    assert batch.current_quantity == 50
    assert ProductionBatch.objects.count() == 1
