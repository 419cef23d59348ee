from datetime import timedelta

import kombu.exceptions
import pytest
from django.utils import timezone

from batches.models import BatchContribution, ProductionBatch
from batches.pooling import claim, pooling_drain, tasks
from batches.pooling.tasks import DRAIN_REQUEST, drain_submitted, recover_submitted, request_pooling
from orders.models import Order
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
    # given: record whether the key was still set when the first claim began to read
    seen = []
    first_step_of_a_claim = claim._lock_product_types

    def spy(*args):
        seen.append(DRAIN_REQUEST.is_set())
        return first_step_of_a_claim(*args)

    monkeypatch.setattr(claim, "_lock_product_types", spy)
    DRAIN_REQUEST.set_if_absent()
    submitted()

    # when
    drain_submitted()

    # then
    assert seen[0] is False


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

    # then: and, finding more than a claim's worth, it asked once for a second drain to help
    assert pooled == 10
    assert not Order.objects.filter(workflow_status=Order.Status.SUBMITTED).exists()
    assert all(order.contribution for order in orders)
    assert drains_sent == ["drain"]


@pytest.mark.django_db(transaction=True)
def test_a_drain_of_a_small_burst_asks_for_no_help(hoodie_offer, orchestration_requests, drains_sent):
    # given
    for _ in range(3):
        submitted()

    # when
    pooled = drain_submitted()

    # then
    assert pooled == 3
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
def test_the_drain_service_stops_when_a_claim_finds_nothing(hoodie_offer, orchestration_requests):
    # given
    for _ in range(5):
        submitted()

    # when
    result = pooling_drain(time_budget_seconds=60, limit=2)

    # then: 2 + 2 + 1, and an empty fourth claim ended it
    assert (result.orders, result.claims, result.budget_spent) == (5, 4, False)


@pytest.mark.django_db(transaction=True)
def test_recovery_requests_a_drain_for_orders_waiting_too_long(hoodie_offer, drains_sent):
    # given: a request whose message was lost still holds the key
    DRAIN_REQUEST.set_if_absent()
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


@pytest.mark.django_db(transaction=True)
def test_a_drain_hands_the_batches_each_claim_filled_to_orchestration_after_that_claim(
    hoodie_offer, orchestration_requests, monkeypatch
):
    # given: three batches' worth of orders, pooled over several claims
    monkeypatch.setattr(claim, "CLAIM_CHUNK", 4)
    for _ in range(30):
        submitted(quantity=10)

    # when
    drain_submitted()

    # then: one message after each claim that brought a batch to 75%, naming that batch
    # (requests are recorded, not run, so each batch goes on filling to 100)
    batches = list(ProductionBatch.objects.order_by("created_at").values_list("id", flat=True))
    assert len(batches) == 3
    assert orchestration_requests == [[str(batch_id)] for batch_id in batches]


@pytest.mark.django_db(transaction=True)
def test_a_drain_that_fills_one_batch_asks_for_that_batch(hoodie_offer, orchestration_requests, monkeypatch):
    # given
    monkeypatch.setattr(claim, "CLAIM_CHUNK", 4)
    for _ in range(8):
        submitted(quantity=10)

    # when
    drain_submitted()

    # then
    (batch_id,) = BatchContribution.objects.values_list("batch_id", flat=True).distinct()
    assert orchestration_requests == [[str(batch_id)]]
