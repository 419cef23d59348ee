"""Fill arithmetic: how full a batch is, in the one set of units pooling, orchestration and the API share.

Every comparison with a threshold is made on integers (``current * 100 >= target * percent``),
so 74.99 % never passes for the 75 % that confirms; a percent is only rounded for display.
"""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def fill_reaches(*, current_quantity: int, target_quantity: int, percent: int) -> bool:
    """Whether a batch holding ``current_quantity`` of ``target_quantity`` is at least ``percent`` full."""
    return current_quantity * 100 >= target_quantity * percent


def fill_crossed(*, quantity_before: int, quantity_after: int, target_quantity: int, percent: int) -> bool:
    """Whether growing from ``quantity_before`` to ``quantity_after`` took the batch over ``percent``."""
    return not fill_reaches(
        current_quantity=quantity_before, target_quantity=target_quantity, percent=percent
    ) and fill_reaches(current_quantity=quantity_after, target_quantity=target_quantity, percent=percent)


def fill_basis_points(percent: int) -> int:
    """A percent threshold in the units of ``ProductionBatch.fill_basis_points`` (75 → 7500).

    That column is ``current * 10000 / target`` truncated, so for a whole-number threshold
    ``fill_basis_points >= 7500`` holds exactly when ``fill_reaches(..., percent=75)`` does.
    """
    return int(percent) * 100


def fill_percent(*, current_quantity: int, target_quantity: int) -> Decimal:
    """Fill in percent, rounded half-up to cents for display (10 of 150 is 6.67).

    Decisions never read it: they compare integers (``fill_reaches``).
    """
    return (Decimal(current_quantity) * 100 / Decimal(target_quantity)).quantize(CENT, rounding=ROUND_HALF_UP)
