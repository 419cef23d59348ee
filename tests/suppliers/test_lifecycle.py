"""The supplier order state machine, called directly (as the admin does)."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from orders.models import Order
from suppliers import lifecycle
from suppliers.lifecycle import Delivery, SupplierOrderConflict, SupplierOrderInvalid
from suppliers.models import SupplierOrder, SupplierOrderEvent
from tests.conftest import requires_postgres
from tests.factories import OrderFactory, SupplierFactory
from tests.suppliers.conftest import backdate, placed_supplier_order

Status = SupplierOrder.Status


def _ship(supplier_order, actor=None):
    lifecycle.supplier_order_acknowledge(supplier_order_id=supplier_order.id, actor=actor)
    return lifecycle.supplier_order_ship(supplier_order_id=supplier_order.id, actor=actor)


@pytest.mark.django_db
def test_delivery_records_its_facts_for_the_scorecard(dhaka):
    # given: placed 10 days ago, promised 7 days after placing, acknowledged now
    supplier_order = backdate(placed_supplier_order(dhaka, quantity=80), days=10)
    SupplierOrder.objects.filter(id=supplier_order.id).update(
        promised_date=timezone.localdate(supplier_order.created_at) + timedelta(days=7)
    )
    _ship(supplier_order)
    delivered_at = timezone.now() - timedelta(hours=1)

    # when
    delivered = lifecycle.supplier_order_deliver(
        supplier_order_id=supplier_order.id,
        actor=None,
        delivery=Delivery(delivered_units=79, defective_units=4, delivered_at=delivered_at),
    )

    # then
    assert delivered.status == Status.DELIVERED
    assert (delivered.delivered_units, delivered.defective_units) == (79, 4)
    assert delivered.days_late == (timezone.localdate(delivered_at) - delivered.promised_date).days
    assert delivered.lead_time_days == pytest.approx(10 - 1 / 24, abs=1e-3)
    assert delivered.acknowledge_hours == pytest.approx(240, abs=0.1)
    assert list(
        SupplierOrderEvent.objects.filter(supplier_order=supplier_order).values_list("to_status", flat=True)
    ) == [
        "acknowledged",
        "shipped",
        "delivered",
    ]


@pytest.mark.parametrize(
    ("delivered_at", "expected"),
    [
        (datetime(2026, 3, 10, 0, 0, tzinfo=UTC), 0),
        (datetime(2026, 3, 10, 23, 59, tzinfo=UTC), 0),
        (datetime(2026, 3, 11, 0, 0, tzinfo=UTC), 1),
        (datetime(2026, 3, 1, 12, 0, tzinfo=UTC), -9),
    ],
)
def test_days_late_counts_calendar_days_after_the_promised_date(delivered_at, expected):
    assert lifecycle.days_late(delivered_at=delivered_at, promised_date=date(2026, 3, 10)) == expected


@pytest.mark.django_db
def test_a_direct_orders_delivery_moves_the_buyers_order_to_delivered(dhaka):
    # given
    order = OrderFactory(quantity=500, is_batch_order=False, workflow_status=Order.Status.CONFIRMED)
    supplier_order = SupplierOrder.objects.create(
        order_number="SO-DIRECT-1",
        supplier=dhaka,
        buyer_order=order,
        product_type=order.product_type,
        quantity=500,
        supplier_price="9.00",
        promised_date=timezone.localdate() + timedelta(days=14),
    )
    _ship(supplier_order)

    # when
    lifecycle.supplier_order_deliver(
        supplier_order_id=supplier_order.id,
        actor=None,
        delivery=Delivery(delivered_units=500, defective_units=0, delivered_at=timezone.now()),
    )

    # then
    order.refresh_from_db()
    assert order.workflow_status == Order.Status.DELIVERED


@pytest.mark.django_db
def test_a_promised_date_cannot_be_moved_at_acknowledgement(dhaka):
    # given
    supplier_order = placed_supplier_order(dhaka)

    # when
    with pytest.raises(SupplierOrderInvalid) as refused:
        lifecycle.supplier_order_acknowledge(
            supplier_order_id=supplier_order.id,
            actor=None,
            promised_date=supplier_order.promised_date + timedelta(days=30),
        )

    # then
    assert "promised_date" in refused.value.errors
    supplier_order.refresh_from_db()
    assert supplier_order.status == Status.PLACED


@pytest.mark.django_db
def test_an_unknown_supplier_order_is_a_conflict_naming_no_status():
    with pytest.raises(SupplierOrderConflict) as refused:
        lifecycle.supplier_order_ship(supplier_order_id="5f1c3c53-54a4-4a4b-a4a6-1d7f0d0f6d11", actor=None)
    assert refused.value.current_status is None


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_once_record_one(monkeypatch):
    # given: both calls pass their checks before either compare-and-sets
    supplier_order = placed_supplier_order(SupplierFactory(), quantity=80)
    _ship(supplier_order)
    barrier = threading.Barrier(2, timeout=10)
    check = lifecycle.delivery_errors

    def check_then_meet(**kwargs):
        errors = check(**kwargs)
        barrier.wait()
        return errors

    monkeypatch.setattr(lifecycle, "delivery_errors", check_then_meet)
    outcomes = []

    def deliver(units):
        try:
            lifecycle.supplier_order_deliver(
                supplier_order_id=supplier_order.id,
                actor=None,
                delivery=Delivery(delivered_units=units, defective_units=0, delivered_at=timezone.now()),
            )
            outcomes.append(("delivered", units))
        except SupplierOrderConflict as exc:
            outcomes.append(("conflict", exc.current_status))
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=deliver, args=(units,)) for units in (80, 79)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    # then
    assert sorted(kind for kind, _ in outcomes) == ["conflict", "delivered"]
    assert ("conflict", "delivered") in outcomes
    winner = next(units for kind, units in outcomes if kind == "delivered")
    supplier_order.refresh_from_db()
    assert supplier_order.delivered_units == winner
    assert SupplierOrderEvent.objects.filter(supplier_order=supplier_order, to_status="delivered").count() == 1
