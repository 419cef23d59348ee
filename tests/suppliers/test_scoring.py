"""The scorecard's formulas on hand-made totals (no database)."""

from decimal import Decimal

import pytest

from suppliers.scoring import (
    DeliveryTotals,
    ScoreRules,
    Standing,
    defect_ppm,
    fill_rate,
    lead_time_mean_and_stdev,
    on_time_rate,
    scorecard_from_totals,
    standing_for,
    weighted_score,
)

RULES = ScoreRules(
    min_deliveries=3,
    weights={"on_time": 40, "quality": 30, "fill": 20, "responsiveness": 10},
    defect_ppm_zero_quality=50_000,
    acknowledge_hours_target=24,
    acknowledge_hours_limit=168,
)


def test_rates_need_something_to_divide_by():
    assert on_time_rate(on_time_orders=0, delivered_orders=0) is None
    assert defect_ppm(defective_units=0, delivered_units=0) is None
    assert fill_rate(delivered_units_capped=0, ordered_units=0) is None
    assert lead_time_mean_and_stdev(count=0, total=0, sum_of_squares=0) == (None, None)


@pytest.mark.parametrize(("on_time", "delivered", "expected"), [(0, 4, 0.0), (3, 4, 0.75), (4, 4, 1.0), (9, 4, 1.0)])
def test_on_time_rate_never_exceeds_one(on_time, delivered, expected):
    assert on_time_rate(on_time_orders=on_time, delivered_orders=delivered) == expected


@pytest.mark.parametrize(
    ("defective", "delivered", "expected"),
    [(0, 1000, 0), (1, 1000, 1000), (1, 3, 333_333), (2, 3, 666_667), (1000, 1000, 1_000_000), (5, 4, 1_000_000)],
)
def test_defect_ppm_is_parts_per_million_rounded_half_up_and_capped(defective, delivered, expected):
    assert defect_ppm(defective_units=defective, delivered_units=delivered) == expected


def test_fill_rate_is_delivered_over_ordered_and_never_over_one():
    assert fill_rate(delivered_units_capped=95, ordered_units=100) == 0.95
    assert fill_rate(delivered_units_capped=120, ordered_units=100) == 1.0


def test_lead_time_mean_and_sample_stdev():
    # 10, 12, 14 days: mean 12, sample stdev 2
    mean, stdev = lead_time_mean_and_stdev(count=3, total=36, sum_of_squares=100 + 144 + 196)
    assert mean == 12 and stdev == pytest.approx(2.0)
    assert lead_time_mean_and_stdev(count=1, total=7, sum_of_squares=49) == (7, None)
    # identical values: zero, never a tiny negative variance
    assert lead_time_mean_and_stdev(count=3, total=0.3, sum_of_squares=0.03)[1] == pytest.approx(0, abs=1e-6)


@pytest.mark.parametrize(
    ("score", "standing"),
    [
        (Decimal("100"), Standing.EXCELLENT),
        (Decimal("80.00"), Standing.EXCELLENT),
        (Decimal("79.99"), Standing.GOOD),
        (Decimal("60.00"), Standing.GOOD),
        (Decimal("59.99"), Standing.WATCH),
        (Decimal("40.00"), Standing.WATCH),
        (Decimal("39.99"), Standing.POOR),
        (Decimal("0"), Standing.POOR),
        (None, Standing.NEW),
    ],
)
def test_standing_boundaries(score, standing):
    assert standing_for(score) is standing


def test_the_weighted_score_leaves_out_parts_without_data():
    assert weighted_score({"on_time": 1.0, "fill": 0.5}, RULES.weights) == Decimal("83.33")  # (40 + 10) / 60
    assert weighted_score({}, RULES.weights) is None


def _totals(**overrides) -> DeliveryTotals:
    base = dict(
        delivered_orders=4,
        on_time_orders=4,
        ordered_units=400,
        delivered_units_capped=400,
        delivered_units=400,
        defective_units=0,
        lead_time_days_sum=56,
        lead_time_days_sum_of_squares=784,
        acknowledge_hours_p50=12,
    )
    return DeliveryTotals(**{**base, **overrides})


def test_a_flawless_supplier_scores_100():
    card = scorecard_from_totals(_totals(), RULES)
    assert (card.score, card.standing) == (Decimal("100.00"), Standing.EXCELLENT)
    assert (card.on_time_rate, card.defect_ppm, card.fill_rate, card.orders_counted) == (1.0, 0, 1.0, 4)
    assert (card.lead_time_days_mean, card.lead_time_days_stdev) == (14, 0)


def test_all_late_loses_the_whole_on_time_part():
    card = scorecard_from_totals(_totals(on_time_orders=0), RULES)
    assert card.on_time_rate == 0.0
    assert card.score == Decimal("60.00")  # 30 + 20 + 10 of 100
    assert card.standing is Standing.GOOD


def test_all_defective_loses_the_whole_quality_part():
    card = scorecard_from_totals(_totals(defective_units=400), RULES)
    assert card.defect_ppm == 1_000_000
    assert card.score == Decimal("70.00")


def test_all_late_and_defective_with_slow_acknowledgements_is_poor():
    card = scorecard_from_totals(
        _totals(on_time_orders=0, defective_units=400, delivered_units_capped=300, acknowledge_hours_p50=200), RULES
    )
    assert card.score == Decimal("15.00")  # fill 0.75 × 20
    assert card.standing is Standing.POOR


def test_slow_acknowledgement_counts_linearly_between_target_and_limit():
    card = scorecard_from_totals(_totals(acknowledge_hours_p50=96), RULES)  # halfway from 24 to 168
    assert card.score == Decimal("95.00")


def test_too_few_deliveries_is_new_with_no_score_never_a_default():
    # given: two perfect deliveries, one under the minimum
    card = scorecard_from_totals(_totals(delivered_orders=2, on_time_orders=2), RULES)

    # then: the metrics are shown, but there is no score to rank on
    assert card.score is None
    assert card.standing is Standing.NEW
    assert card.on_time_rate == 1.0


def test_zero_deliveries_is_new_with_nothing_measured():
    card = scorecard_from_totals(DeliveryTotals(), RULES)
    assert card.standing is Standing.NEW
    assert (card.score, card.on_time_rate, card.defect_ppm, card.fill_rate, card.orders_counted) == (
        None,
        None,
        None,
        None,
        0,
    )
