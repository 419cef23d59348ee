from datetime import timedelta

import kombu.exceptions
import pytest
from django.core.cache import cache
from django.utils import timezone

from batches.pooling import claim, orders_drain_submitted
from orders import tasks
from orders.models import Order
from orders.tasks import DRAIN_REQUESTED_KEY, drain_submitted, recover_submitted, request_pooling
from tests.pooling.conftest import submitted


@pytest.fixture
def drains_sent(monkeypatch):
    """How many drain messages went to the broker."""
    sent = []
    monkeypatch.setattr(drain_submitted, "delay", lambda: sent.append("drain"))
    return sent


def test_a_burst_of_submissions_sends_one_drain(drains_sent):
    # when
    for _ in range(50):
        request_pooling()

    # then
    assert drains_sent == ["drain"]


@pytest.mark.django_db(transaction=True)
def test_a_submission_after_a_drain_started_sends_another(hoodie_offer, orchestration_requests, drains_sent):
    # given
    request_pooling()
    submitted()

    # when: the drain runs; then another order commits
    pooled = drain_submitted()
    late = submitted()
    request_pooling()

    # then
    assert pooled == 1
    assert drains_sent == ["drain", "drain"]
    late.refresh_from_db()
    assert late.workflow_status == Order.Status.SUBMITTED  # pooled by the second drain


@pytest.mark.django_db(transaction=True)
def test_the_drain_forgets_the_request_before_it_claims(hoodie_offer, orchestration_requests, monkeypatch):
    # given: record whether the key was still set when the first claim ran
    seen = []
    real_claim = claim._claim_submitted

    def spy(limit):
        seen.append(cache.get(DRAIN_REQUESTED_KEY))
        return real_claim(limit)

    monkeypatch.setattr(claim, "_claim_submitted", spy)
    cache.add(DRAIN_REQUESTED_KEY, 1)
    submitted()

    # when
    drain_submitted()

    # then
    assert seen[0] is None


def test_a_failed_send_lets_the_next_request_try_again(monkeypatch):
    # given
    sent = []

    def broker_down():
        raise kombu.exceptions.OperationalError("connection refused")

    monkeypatch.setattr(drain_submitted, "delay", broker_down)
    with pytest.raises(kombu.exceptions.OperationalError):
        request_pooling()

    # when
    monkeypatch.setattr(drain_submitted, "delay", lambda: sent.append("drain"))
    request_pooling()

    # then
    assert sent == ["drain"]


@pytest.mark.django_db(transaction=True)
def test_a_drain_pools_every_submitted_order(hoodie_offer, orchestration_requests, drains_sent, monkeypatch):
    # given: several claims' worth
    monkeypatch.setattr(claim, "CLAIM_CHUNK", 4)
    orders = [submitted() for _ in range(10)]

    # when
    pooled = drain_submitted()

    # then
    assert pooled == 10
    assert not Order.objects.filter(workflow_status=Order.Status.SUBMITTED).exists()
    assert all(order.contribution for order in orders)
    assert drains_sent == []


@pytest.mark.django_db(transaction=True)
def test_a_drain_that_spends_its_time_budget_queues_the_next_slice(
    hoodie_offer, orchestration_requests, drains_sent, monkeypatch
):
    # given
    monkeypatch.setattr(claim, "CLAIM_CHUNK", 2)
    monkeypatch.setattr(tasks, "DRAIN_TIME_BUDGET_SECONDS", 0)
    for _ in range(5):
        submitted()

    # when
    pooled = drain_submitted()

    # then: one claim, then re-queued
    assert pooled == 2
    assert Order.objects.filter(workflow_status=Order.Status.SUBMITTED).count() == 3
    assert drains_sent == ["drain"]


@pytest.mark.django_db(transaction=True)
def test_the_drain_service_stops_at_a_short_claim(hoodie_offer, orchestration_requests):
    # given
    for _ in range(5):
        submitted()

    # when
    result = orders_drain_submitted(time_budget_seconds=60, limit=2)

    # then: 2 + 2 + 1, and the short third claim ended it
    assert (result.orders, result.claims, result.budget_spent) == (5, 3, False)


@pytest.mark.django_db(transaction=True)
def test_recovery_requests_a_drain_for_orders_waiting_too_long(hoodie_offer, drains_sent):
    # given: a request whose message was lost still holds the key
    cache.add(DRAIN_REQUESTED_KEY, 1)
    order = submitted()
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - tasks.RECOVER_AFTER - timedelta(seconds=1))

    # when
    recovered = recover_submitted()

    # then
    assert recovered is True
    assert drains_sent == ["drain"]


@pytest.mark.django_db(transaction=True)
def test_recovery_leaves_fresh_submissions_to_their_own_trigger(hoodie_offer, drains_sent):
    # given
    submitted()

    # when
    recovered = recover_submitted()

    # then
    assert recovered is False
    assert drains_sent == []
