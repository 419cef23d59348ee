"""The rollup, fed by the business events the real pooling and transitions write, agrees with the
order, batch and refund tables: every figure of every day, days without activity included."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from analytics.models import DailyStats
from analytics.rollups import FIGURES, daily_figures_from_raw_tables, daily_stats_rollup
from batches import state
from batches.models import ProductionBatch
from batches.orchestration import orchestration_sweep
from batches.pooling import pooling_claim
from orders.models import Order
from sleekbatch.models import BusinessEvent
from tests.factories import OrderFactory, SupplierOfferFactory, UserFactory


def _submit(buyer, product_type, quantity, created_at):
    order = OrderFactory(buyer=buyer, product_type=product_type, quantity=quantity)
    Order.objects.filter(id=order.id).update(created_at=created_at)
    return order


def _rollup_rows(first_day, last_day) -> dict:
    rows = {}
    for row in DailyStats.objects.filter(day__gte=first_day, day__lte=last_day).values("day", "product_type", *FIGURES):
        key = (row.pop("day"), row.pop("product_type"))
        rows[key] = {name: value for name, value in row.items() if value not in (0, None)}
    return rows


@pytest.mark.django_db(transaction=True)
def test_daily_rollups_equal_what_the_raw_tables_say(olivia):
    # given: hoodies (MOQ 100) and tees (MOQ 50); orders submitted over four days with a quiet
    # day (3 days ago) between, some a second before midnight; one product nobody offers; one direct order
    SupplierOfferFactory(product_type="hoodie", moq=100)
    SupplierOfferFactory(product_type="tee", moq=50)
    buyer = UserFactory(username="rollup-buyer")
    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day = lambda n: today - timedelta(days=n)  # noqa: E731 - a name for "n days ago, midnight"
    for quantity in (30, 30, 28):  # hoodie batch A: 88 of 100, too full for the next two → confirmed
        _submit(buyer, "hoodie", quantity, day(4) + timedelta(hours=9))
    _submit(buyer, "hoodie", 40, day(1) - timedelta(seconds=1))  # batch B, 23:59:59 the day before
    _submit(buyer, "hoodie", 15, day(1) + timedelta(hours=1))  # batch B: 55 → review
    for quantity in (10, 5):  # tee batch: 15 of 50 → cancelled with two refunds
        _submit(buyer, "tee", quantity, day(1) - timedelta(seconds=1))
    _submit(buyer, "tee", 60, day(4) + timedelta(hours=3))  # direct: reaches the tee MOQ on its own
    _submit(buyer, "scarf", 12, day(1) + timedelta(hours=2))  # rejected: no offer

    # when: pooling (now), the sweep four days on (windows closed), ops approve the review batch
    while pooling_claim(limit=3):
        pass
    later = timezone.now() + timedelta(days=4)
    orchestration_sweep(now=later)
    in_review = ProductionBatch.objects.get(batch_status=ProductionBatch.Status.ADMIN_REVIEW)
    state.review_approve(batch_id=in_review.id, actor=olivia)
    first_day, last_day = day(5).date(), (later + timedelta(days=1)).date()
    daily_stats_rollup(first_day=first_day, last_day=last_day)

    # then: the same figures, the same days
    raw = daily_figures_from_raw_tables(first_day=first_day, last_day=last_day)
    rolled = _rollup_rows(first_day, last_day)
    for key in sorted(set(rolled) | set(raw)):
        assert rolled.get(key) == raw.get(key), key
    assert (day(3).date(), "hoodie") not in raw  # the quiet day has no row either way
    assert not DailyStats.objects.filter(day=day(3).date()).exists()
    # and the scenario covered what it meant to
    kinds = set(BusinessEvent.objects.values_list("kind", flat=True))
    assert {
        "order_submitted",
        "order_pooled",
        "order_rejected",
        "order_direct",
        "batch_opened",
        "batch_confirmed",
        "batch_sent_to_review",
        "batch_approved",
        "batch_cancelled",
        "refund_issued",
        "supplier_order_placed",
    } <= kinds
    straddling = raw[(day(2).date(), "tee")]
    assert straddling["orders_submitted"] == 2  # submitted before midnight …
    assert "orders_pooled" not in straddling  # … pooled on another day
