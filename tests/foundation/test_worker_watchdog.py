"""The workers' watchdog: checks run on a timer of their own; pooling's check asks for a drain when orders wait."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches.pooling import tasks as pooling_tasks
from orders.models import Order
from sleekbatch import watchdog
from tests.factories import OrderFactory, UserFactory


@pytest.mark.django_db  # each round ends by closing connections an outage broke
def test_a_failing_check_does_not_stop_the_others(monkeypatch):
    # given
    ran = []

    def broken():
        raise ConnectionError("the database is restarting")

    monkeypatch.setattr(watchdog, "_checks", [broken, lambda: ran.append("second")])

    # when
    watchdog.run_checks()

    # then
    assert ran == ["second"]


def test_pooling_registers_its_check_with_the_watchdog():
    assert pooling_tasks.pooling_watchdog in watchdog._checks


@pytest.fixture
def drains_requested(monkeypatch):
    calls = []
    monkeypatch.setattr(pooling_tasks, "request_pooling", lambda: calls.append("drain"))
    return calls


def _submitted(seconds_ago: float):
    order = OrderFactory(buyer=UserFactory(), product_type="hoodie", quantity=10)
    Order.objects.filter(id=order.id).update(created_at=timezone.now() - timedelta(seconds=seconds_ago))


@pytest.mark.django_db
def test_pooling_check_asks_for_a_drain_when_an_order_has_waited_too_long(drains_requested):
    # given
    _submitted(seconds_ago=pooling_tasks.STALLED_AFTER.total_seconds() + 1)

    # when / then
    assert pooling_tasks.pooling_watchdog() is True
    assert drains_requested == ["drain"]


@pytest.mark.django_db
def test_pooling_check_leaves_fresh_orders_to_their_own_trigger(drains_requested):
    # given: an order a second old (its own drain is on the way)
    _submitted(seconds_ago=1)

    # when / then
    assert pooling_tasks.pooling_watchdog() is False
    assert drains_requested == []
