from decimal import Decimal

import pytest

from suppliers.matching import OfferBook, offer_best
from tests.factories import SupplierFactory, SupplierOfferFactory

pytestmark = pytest.mark.django_db


def offer(*, price_at_moq: str, moq: int = 100, score: int = 80, lead: int = 14, product_type="hoodie", **kwargs):
    return SupplierOfferFactory(
        product_type=product_type,
        moq=moq,
        lead_time_days=lead,
        supplier=SupplierFactory(performance_score=score),
        price_tiers=[{"min_quantity": 1, "unit_price": "20.00"}, {"min_quantity": moq, "unit_price": price_at_moq}],
        **kwargs,
    )


def test_it_picks_the_lowest_buyer_price_at_each_offers_own_target():
    # given: the cheapest first tier is not the cheapest at the MOQ
    offer(price_at_moq="9.00", moq=300)
    cheapest_at_target = offer(price_at_moq="8.50", moq=500)
    offer(price_at_moq="9.50", moq=100)

    # when
    best = offer_best(product_type="hoodie")

    # then
    assert best.offer_id == cheapest_at_target.id
    assert best.moq == 500
    assert best.supplier_unit_price == Decimal("8.50")
    assert best.buyer_unit_price == Decimal("9.78")  # 8.50 × 1.15 = 9.775, half-up


def test_it_breaks_a_price_tie_by_the_higher_performance_score():
    # given
    offer(price_at_moq="9.00", score=70)
    better = offer(price_at_moq="9.00", score=95)

    # then
    assert offer_best(product_type="hoodie").offer_id == better.id


def test_it_breaks_a_price_and_score_tie_by_the_shorter_lead_time():
    # given
    offer(price_at_moq="9.00", score=90, lead=21)
    faster = offer(price_at_moq="9.00", score=90, lead=10)

    # then
    assert offer_best(product_type="hoodie").offer_id == faster.id


def test_it_ignores_inactive_offers_inactive_suppliers_and_invalid_tiers():
    # given
    offer(price_at_moq="5.00", is_active=False)
    stopped = offer(price_at_moq="5.10")
    stopped.supplier.is_active = False
    stopped.supplier.save()
    broken = offer(price_at_moq="5.20")
    broken.price_tiers = [{"min_quantity": 1, "unit_price": "5.00"}, {"min_quantity": 100, "unit_price": "6.00"}]
    broken.save()
    valid = offer(price_at_moq="9.00")

    # then
    assert offer_best(product_type="hoodie").offer_id == valid.id


def test_it_finds_nothing_for_a_product_type_nobody_makes():
    # given
    offer(price_at_moq="9.00", product_type="tee")

    # then
    assert offer_best(product_type="hoodie") is None


def test_it_falls_back_to_the_best_offer_that_runs_the_orders_style_count():
    # given
    offer(price_at_moq="8.00", max_styles=2)
    roomy = offer(price_at_moq="9.00", max_styles=5)

    # then
    assert offer_best(product_type="hoodie", style_count=2).max_styles == 2
    assert offer_best(product_type="hoodie", style_count=3).offer_id == roomy.id
    assert offer_best(product_type="hoodie", style_count=6) is None


def test_it_looks_offers_up_once_per_product_type_for_a_whole_drain(django_assert_num_queries):
    # given
    offer(price_at_moq="9.00")
    offer(price_at_moq="4.00", product_type="tee")
    book = OfferBook()

    # when / then: one query for both product types, none afterwards
    with django_assert_num_queries(1):
        book.load(["hoodie", "tee"])
        for _ in range(100):
            book.best(product_type="hoodie", style_count=2)
            book.best(product_type="tee")
