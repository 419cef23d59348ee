"""Scoring runs against the database: the SQL sums, the window, snapshots, the supplier's current score."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from suppliers import lifecycle
from suppliers.models import Supplier, SupplierScoreSnapshot
from suppliers.scorecard import delivery_totals, suppliers_score
from suppliers.scoring import Standing
from suppliers.selectors import supplier_scorecard
from suppliers.tasks import score_supplier
from tests.factories import SupplierFactory
from tests.suppliers.conftest import delivered_order, placed_supplier_order

pytestmark = pytest.mark.django_db


def test_the_sums_behind_the_formulas(dhaka, settings):
    # given: grace of one day; lead times 10, 12, 14; acknowledgements after 5, 9, 30 hours
    settings.SUPPLIER_ON_TIME_GRACE_DAYS = 1
    delivered_order(dhaka, days_late=-2, lead_time_days=10, acknowledge_hours=5)
    delivered_order(dhaka, days_late=1, lead_time_days=12, acknowledge_hours=30, defective_units=3)
    delivered_order(dhaka, days_late=2, lead_time_days=14, acknowledge_hours=9, quantity=100, delivered_units=110)

    # when
    totals = delivery_totals(since=timezone.now() - timedelta(days=90), until=timezone.now())[dhaka.id]

    # then
    assert totals.delivered_orders == 3
    assert totals.on_time_orders == 2  # early, and one day late within the grace
    assert (totals.ordered_units, totals.delivered_units, totals.delivered_units_capped) == (300, 310, 300)
    assert totals.defective_units == 3
    assert totals.lead_time_days_sum == pytest.approx(36)
    assert totals.lead_time_days_sum_of_squares == pytest.approx(100 + 144 + 196)
    assert totals.acknowledge_hours_p50 == pytest.approx(9)


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two(dhaka):
    for hours in (1, 4, 8, 100):
        delivered_order(dhaka, acknowledge_hours=hours)
    totals = delivery_totals(since=timezone.now() - timedelta(days=90), until=timezone.now())
    assert totals[dhaka.id].acknowledge_hours_p50 == pytest.approx(6)


def test_the_window_edge_counts_a_delivery_exactly_window_days_old_and_not_one_older(dhaka, porto, settings):
    # given
    settings.SUPPLIER_SCORE_WINDOW_DAYS = 90
    now = timezone.now()
    delivered_order(dhaka, delivered_at=now - timedelta(days=90))
    delivered_order(porto, delivered_at=now - timedelta(days=90, seconds=1))

    # when
    totals = delivery_totals(since=now - timedelta(days=90), until=now)

    # then
    assert totals[dhaka.id].delivered_orders == 1
    assert porto.id not in totals or totals[porto.id].delivered_orders == 0


def test_a_run_scores_every_supplier_and_keeps_one_snapshot_per_day_however_often_it_runs(dhaka, porto):
    # given: dhaka has enough deliveries, all late; porto has none
    for _ in range(3):
        delivered_order(dhaka, days_late=5)

    # when
    suppliers_score()
    first = list(SupplierScoreSnapshot.objects.values_list("supplier_id", "day", "score", "standing"))
    delivered_order(dhaka, days_late=0)
    suppliers_score()

    # then
    assert SupplierScoreSnapshot.objects.count() == 2
    assert sorted(first) == sorted(
        [(dhaka.id, timezone.localdate(), Decimal("60.00"), "good"), (porto.id, timezone.localdate(), None, "new")]
    )
    rerun = SupplierScoreSnapshot.objects.get(supplier=dhaka)
    assert (rerun.orders_counted, rerun.on_time_rate, rerun.score) == (4, 0.25, Decimal("70.00"))
    dhaka.refresh_from_db()
    porto.refresh_from_db()
    assert (dhaka.performance_score, dhaka.standing) == (Decimal("70.00"), "good")
    assert (porto.performance_score, porto.standing) == (None, "new")


def test_yesterdays_snapshot_stays_as_history(dhaka):
    # given
    for _ in range(3):
        delivered_order(dhaka)
    suppliers_score(now=timezone.now() - timedelta(days=1))

    # when
    suppliers_score()

    # then
    assert list(SupplierScoreSnapshot.objects.filter(supplier=dhaka).values_list("day", flat=True)) == [
        timezone.localdate(),
        timezone.localdate() - timedelta(days=1),
    ]


def test_scoring_one_supplier_leaves_the_others_alone(dhaka, porto):
    # given
    for supplier in (dhaka, porto):
        for _ in range(3):
            delivered_order(supplier)

    # when
    run = suppliers_score(supplier_ids=[dhaka.id])

    # then
    assert (run.suppliers, run.scored, run.supplier_orders) == (1, 1, 3)
    assert list(SupplierScoreSnapshot.objects.values_list("supplier_id", flat=True)) == [dhaka.id]
    porto.refresh_from_db()
    assert porto.standing == "new" and porto.scored_at is None


def test_a_new_supplier_has_no_score_in_the_selector(dhaka):
    # given: never scored, then scored with two deliveries (under the minimum of three)
    before = supplier_scorecard(supplier_id=dhaka.id)
    delivered_order(dhaka)
    delivered_order(dhaka)
    suppliers_score()

    # when
    after = supplier_scorecard(supplier_id=dhaka.id)

    # then
    assert (before.day, before.scorecard.standing, before.scorecard.score) == (None, Standing.NEW, None)
    assert (after.day, after.scorecard.standing, after.scorecard.score) == (timezone.localdate(), Standing.NEW, None)
    assert after.scorecard.orders_counted == 2


def test_each_delivery_asks_for_its_supplier_to_be_rescored(dhaka, monkeypatch, django_capture_on_commit_callbacks):
    # given: two deliveries on record, a third one shipped
    delivered_order(dhaka)
    delivered_order(dhaka)
    supplier_order = placed_supplier_order(dhaka, quantity=80)
    lifecycle.supplier_order_acknowledge(supplier_order_id=supplier_order.id, actor=None)
    lifecycle.supplier_order_ship(supplier_order_id=supplier_order.id, actor=None)
    requested = []
    monkeypatch.setattr(score_supplier, "delay", requested.append)

    # when: delivered, and the task it enqueued after commit runs
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.supplier_order_deliver(
            supplier_order_id=supplier_order.id,
            actor=None,
            delivery=lifecycle.Delivery(delivered_units=80, defective_units=0, delivered_at=timezone.now()),
        )
    assert requested == [dhaka.id]
    result = score_supplier(dhaka.id)

    # then
    assert (result["suppliers"], result["scored"], result["supplier_orders"]) == (1, 1, 3)
    dhaka.refresh_from_db()
    assert dhaka.standing != "new" and dhaka.performance_score is not None
    assert SupplierScoreSnapshot.objects.get(supplier=dhaka).orders_counted == 3
    assert Supplier.objects.exclude(id=dhaka.id).filter(scored_at__isnull=False).count() == 0


def test_a_thousand_suppliers_take_a_handful_of_statements(django_assert_max_num_queries):
    # given
    suppliers = SupplierFactory.create_batch(30)
    for supplier in suppliers[:10]:
        for _ in range(3):
            delivered_order(supplier)

    # when / then: the number of statements does not grow with the suppliers
    with django_assert_max_num_queries(12):
        run = suppliers_score()
    assert (run.suppliers, run.scored) == (30, 10)
