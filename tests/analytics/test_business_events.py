"""Business events come from the statements that make the change, and only when they commit."""

from decimal import Decimal

import pytest
from celery import shared_task
from django.db import transaction

from batches import state
from batches.models import ProductionBatch
from batches.pooling import pooling_claim
from sleekbatch.models import BusinessEvent
from tests.factories import OrderFactory, SupplierOfferFactory

Kind = BusinessEvent.Kind


@pytest.fixture
def hoodies(db):
    return SupplierOfferFactory(product_type="hoodie", moq=100)


@pytest.mark.django_db(transaction=True)
def test_a_claim_records_each_orders_submission_and_outcome_and_each_new_batch(hoodies):
    # given: one order to pool, one big enough to go direct, one nobody offers
    pooled = OrderFactory(product_type="hoodie", quantity=20, correlation_id="req-1")
    direct = OrderFactory(product_type="hoodie", quantity=150)
    rejected = OrderFactory(product_type="scarf", quantity=5)

    # when
    pooling_claim()

    # then
    events = {(event.kind, event.order_id): event for event in BusinessEvent.objects.all()}
    for order in (pooled, direct, rejected):
        submitted = events[(Kind.ORDER_SUBMITTED, order.id)]
        assert (submitted.occurred_at, submitted.quantity) == (order.created_at, order.quantity)
    batch = ProductionBatch.objects.get()
    pooled_event = events[(Kind.ORDER_POOLED, pooled.id)]
    assert (pooled_event.batch_id, pooled_event.correlation_id) == (batch.id, "req-1")
    assert pooled_event.amount == pooled_event_order_total(pooled)
    assert events[(Kind.ORDER_DIRECT, direct.id)].amount > 0
    assert events[(Kind.ORDER_REJECTED, rejected.id)].reason
    opened = BusinessEvent.objects.get(kind=Kind.BATCH_OPENED)
    assert (opened.batch_id, opened.quantity, opened.product_type) == (batch.id, 100, "hoodie")
    assert BusinessEvent.objects.filter(kind=Kind.SUPPLIER_ORDER_PLACED, order_id=direct.id).exists()


def pooled_event_order_total(order):
    order.refresh_from_db()
    return order.total_price


@shared_task(name="tests.fails_as_an_event")
def fails_as_an_event():
    raise ValueError("no such product")


@pytest.mark.django_db
def test_a_failed_job_is_a_business_event(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    fails_as_an_event.apply()

    event = BusinessEvent.objects.get(kind=Kind.JOB_FAILED)
    assert (event.task_name, event.reason) == ("tests.fails_as_an_event", "ValueError: no such product")


@pytest.mark.django_db(transaction=True)
def test_with_events_off_nothing_is_recorded(hoodies, settings):
    settings.BUSINESS_EVENTS = False
    OrderFactory(product_type="hoodie", quantity=20)

    pooling_claim()

    assert ProductionBatch.objects.exists()
    assert not BusinessEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_transition_that_rolls_back_leaves_no_event(hoodies):
    OrderFactory(product_type="hoodie", quantity=80)
    pooling_claim()
    batch = ProductionBatch.objects.get()
    before = BusinessEvent.objects.count()

    with pytest.raises(RuntimeError), transaction.atomic():
        state.batches_confirm(batch_ids=[batch.id])
        assert BusinessEvent.objects.filter(kind=Kind.BATCH_CONFIRMED).exists()  # written inside …
        raise RuntimeError("the caller fails after the confirmation")

    assert BusinessEvent.objects.count() == before  # … and gone with the rollback
    state.batches_confirm(batch_ids=[batch.id])
    confirmed = BusinessEvent.objects.get(kind=Kind.BATCH_CONFIRMED)
    assert (confirmed.batch_id, confirmed.quantity, confirmed.fill_percent) == (batch.id, 80, Decimal("80.00"))
    assert confirmed.amount > 0  # the pooled orders' total price
    assert confirmed.batch_opened_at == batch.created_at
