"""The scorecard's formulas: plain typed functions over one supplier's delivery totals.

Everything a scorecard says is computed here, from numbers the database summed (see
suppliers.scorecard); nothing is evaluated from a formula string. The README gives the same
formulas in prose.
"""

import math
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from django.conf import settings

PPM = 1_000_000


class Standing(StrEnum):
    EXCELLENT = "excellent"
    GOOD = "good"
    WATCH = "watch"
    POOR = "poor"
    NEW = "new"  # too few deliveries to judge: no score at all

    @property
    def rank(self) -> int | None:
        """Higher is better; None for ``new``, which is not on the scale."""
        return _RANKS.get(self)


_RANKS = {Standing.POOR: 0, Standing.WATCH: 1, Standing.GOOD: 2, Standing.EXCELLENT: 3}

# Lowest score of each standing, best first (inclusive).
STANDING_FLOORS = ((Standing.EXCELLENT, 80), (Standing.GOOD, 60), (Standing.WATCH, 40))


@dataclass(frozen=True)
class DeliveryTotals:
    """What the database sums for one supplier over the window."""

    delivered_orders: int = 0
    on_time_orders: int = 0
    ordered_units: int = 0
    # Per order min(delivered, ordered), summed: an over-delivery does not make up for a short one.
    delivered_units_capped: int = 0
    delivered_units: int = 0
    defective_units: int = 0
    lead_time_days_sum: float = 0.0
    lead_time_days_sum_of_squares: float = 0.0
    acknowledge_hours_p50: float | None = None


@dataclass(frozen=True)
class ScoreRules:
    """The tunables (settings.SUPPLIER_*), passed in so the formulas stay pure."""

    min_deliveries: int
    weights: dict[str, float]
    defect_ppm_zero_quality: int
    acknowledge_hours_target: float
    acknowledge_hours_limit: float

    @classmethod
    def from_settings(cls) -> "ScoreRules":
        return cls(
            min_deliveries=settings.SUPPLIER_SCORE_MIN_DELIVERIES,
            weights=dict(settings.SUPPLIER_SCORE_WEIGHTS),
            defect_ppm_zero_quality=settings.SUPPLIER_DEFECT_PPM_ZERO_QUALITY,
            acknowledge_hours_target=settings.SUPPLIER_ACKNOWLEDGE_HOURS_TARGET,
            acknowledge_hours_limit=settings.SUPPLIER_ACKNOWLEDGE_HOURS_LIMIT,
        )


@dataclass(frozen=True)
class Scorecard:
    on_time_rate: float | None
    defect_ppm: int | None
    fill_rate: float | None
    acknowledge_hours_p50: float | None
    lead_time_days_mean: float | None
    lead_time_days_stdev: float | None
    orders_counted: int
    score: Decimal | None
    standing: Standing


# What a scorecard reports, as stored on a snapshot and answered by the performance API.
SCORECARD_FIELDS = tuple(field.name for field in fields(Scorecard))


def on_time_rate(*, on_time_orders: int, delivered_orders: int) -> float | None:
    """Deliveries on or before the promised date (plus grace) over deliveries; None without any."""
    if delivered_orders <= 0:
        return None
    return min(on_time_orders, delivered_orders) / delivered_orders


def defect_ppm(*, defective_units: int, delivered_units: int) -> int | None:
    """Defective over delivered units, in parts per million (rounded half up); None without units."""
    if delivered_units <= 0:
        return None
    defective = min(defective_units, delivered_units)
    return int((Decimal(defective) * PPM / Decimal(delivered_units)).to_integral_value(ROUND_HALF_UP))


def fill_rate(*, delivered_units_capped: int, ordered_units: int) -> float | None:
    """Delivered (each order's capped at what it asked for) over ordered units; None without orders."""
    if ordered_units <= 0:
        return None
    return min(delivered_units_capped, ordered_units) / ordered_units


def lead_time_mean_and_stdev(*, count: int, total: float, sum_of_squares: float) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation from a count, a sum and a sum of squares (stdev needs two)."""
    if count <= 0:
        return None, None
    mean = total / count
    if count < 2:
        return mean, None
    # max(0, …): rounding can make a zero variance come out a hair below zero.
    variance = max(0.0, (sum_of_squares - total * total / count) / (count - 1))
    return mean, math.sqrt(variance)


def _linear_part(value: float, *, best_at: float, zero_at: float) -> float:
    """1 up to ``best_at``, falling linearly to 0 at ``zero_at`` and beyond."""
    if value <= best_at:
        return 1.0
    if value >= zero_at:
        return 0.0
    return (zero_at - value) / (zero_at - best_at)


def score_parts(
    *,
    on_time: float | None,
    ppm: int | None,
    fill: float | None,
    acknowledge_hours_p50: float | None,
    rules: ScoreRules,
) -> dict[str, float]:
    """Each part of the score in 0..1; a part without data is left out (its weight too)."""
    parts: dict[str, float] = {}
    if on_time is not None:
        parts["on_time"] = on_time
    if ppm is not None:
        parts["quality"] = _linear_part(ppm, best_at=0, zero_at=rules.defect_ppm_zero_quality)
    if fill is not None:
        parts["fill"] = fill
    if acknowledge_hours_p50 is not None:
        parts["responsiveness"] = _linear_part(
            acknowledge_hours_p50, best_at=rules.acknowledge_hours_target, zero_at=rules.acknowledge_hours_limit
        )
    return parts


def weighted_score(parts: dict[str, float], weights: dict[str, float]) -> Decimal | None:
    """100 × Σ weight·part / Σ weight over the parts present, to two places; None if no weight applies."""
    total_weight = sum(weights.get(name, 0.0) for name in parts)
    if total_weight <= 0:
        return None
    value = 100 * sum(weights.get(name, 0.0) * part for name, part in parts.items()) / total_weight
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def standing_for(score: Decimal | None) -> Standing:
    """excellent ≥ 80, good ≥ 60, watch ≥ 40, poor below; no score is ``new``."""
    if score is None:
        return Standing.NEW
    for standing, floor in STANDING_FLOORS:
        if score >= floor:
            return standing
    return Standing.POOR


def scorecard_from_totals(totals: DeliveryTotals, rules: ScoreRules) -> Scorecard:
    """The whole scorecard of one supplier; fewer than ``rules.min_deliveries`` deliveries is ``new``."""
    on_time = on_time_rate(on_time_orders=totals.on_time_orders, delivered_orders=totals.delivered_orders)
    ppm = defect_ppm(defective_units=totals.defective_units, delivered_units=totals.delivered_units)
    fill = fill_rate(delivered_units_capped=totals.delivered_units_capped, ordered_units=totals.ordered_units)
    mean, stdev = lead_time_mean_and_stdev(
        count=totals.delivered_orders,
        total=totals.lead_time_days_sum,
        sum_of_squares=totals.lead_time_days_sum_of_squares,
    )
    score = None
    if totals.delivered_orders >= rules.min_deliveries:
        parts = score_parts(
            on_time=on_time, ppm=ppm, fill=fill, acknowledge_hours_p50=totals.acknowledge_hours_p50, rules=rules
        )
        score = weighted_score(parts, rules.weights)
    return Scorecard(
        on_time_rate=on_time,
        defect_ppm=ppm,
        fill_rate=fill,
        acknowledge_hours_p50=totals.acknowledge_hours_p50,
        lead_time_days_mean=mean,
        lead_time_days_stdev=stdev,
        orders_counted=totals.delivered_orders,
        score=score,
        standing=standing_for(score),
    )
