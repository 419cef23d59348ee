from datetime import timedelta

import pytest
from django.utils import timezone

from batches import state
from batches.models import BatchEvent, ProductionBatch
from batches.orchestration import orchestration_sweep
from orders.models import Order, Refund
from suppliers.models import SupplierOrder
from tests.batches.factories import batch_filled_to, batch_in_review

pytestmark = pytest.mark.django_db

Status = ProductionBatch.Status
Kind = BatchEvent.Kind


def test_approving_a_batch_in_review_confirms_it_and_places_the_supplier_order(olivia):
    # given
    batch = batch_in_review(60)

    # when
    state.review_approve(batch_id=batch.id, actor=olivia)

    # then
    batch.refresh_from_db()
    assert batch.batch_status == Status.CONFIRMED
    assert SupplierOrder.objects.get(batch=batch).quantity == 60
    assert set(Order.objects.values_list("workflow_status", flat=True)) == {Order.Status.CONFIRMED}
    event = batch.events.get()
    assert (event.kind, event.from_status, event.to_status, event.actor) == (
        Kind.CONFIRMED,
        Status.ADMIN_REVIEW,
        Status.CONFIRMED,
        olivia,
    )


def test_cancelling_a_batch_in_review_refunds_every_order(olivia):
    # given
    batch = batch_in_review(55, orders=3)

    # when
    state.review_cancel(batch_id=batch.id, actor=olivia)

    # then
    batch.refresh_from_db()
    assert batch.batch_status == Status.CANCELLED
    assert Refund.objects.count() == 3
    assert set(Order.objects.values_list("workflow_status", flat=True)) == {Order.Status.REFUNDED}
    event = batch.events.get()
    assert (event.kind, event.from_status, event.actor) == (Kind.CANCELLED, Status.ADMIN_REVIEW, olivia)


def test_extending_a_batch_in_review_reopens_it_for_the_hours_given(olivia):
    # given
    batch = batch_in_review(55)
    before = timezone.now()

    # when
    state.review_extend_window(batch_id=batch.id, hours=48, actor=olivia)

    # then
    batch.refresh_from_db()
    assert batch.batch_status == Status.OPEN
    assert before + timedelta(hours=48) <= batch.window_closes_at <= timezone.now() + timedelta(hours=48)
    assert batch.review_started_at is None
    event = batch.events.get()
    assert (event.kind, event.from_status, event.to_status, event.actor, event.details) == (
        Kind.EXTENDED,
        Status.ADMIN_REVIEW,
        Status.OPEN,
        olivia,
        {"hours": 48},
    )


def test_an_extended_batch_goes_back_to_review_when_its_new_window_closes(olivia):
    # given
    batch = batch_in_review(55)
    state.review_extend_window(batch_id=batch.id, hours=1, actor=olivia)
    assert orchestration_sweep().decided == 0

    # when
    orchestration_sweep(now=timezone.now() + timedelta(hours=2))

    # then
    batch.refresh_from_db()
    assert batch.batch_status == Status.ADMIN_REVIEW
    assert list(batch.events.order_by("created_at", "id").values_list("kind", flat=True)) == [
        Kind.EXTENDED,
        Kind.ADMIN_REVIEW,
    ]


@pytest.mark.parametrize(
    "decide",
    [
        lambda batch, user: state.review_approve(batch_id=batch.id, actor=user),
        lambda batch, user: state.review_cancel(batch_id=batch.id, actor=user),
        lambda batch, user: state.review_extend_window(batch_id=batch.id, hours=24, actor=user),
    ],
    ids=["approve", "cancel", "extend"],
)
@pytest.mark.parametrize("status", [Status.OPEN, Status.CONFIRMED, Status.CANCELLED])
def test_a_decision_on_a_batch_no_longer_in_review_is_refused_and_changes_nothing(olivia, decide, status):
    # given
    batch = batch_filled_to(60, window_closed=True, batch_status=status)

    # when
    with pytest.raises(state.BatchNotInReview) as refused:
        decide(batch, olivia)

    # then
    assert refused.value.batch_status == status
    assert "no longer in admin review" in str(refused.value)
    batch.refresh_from_db()
    assert batch.batch_status == status
    assert not BatchEvent.objects.exists()
    assert not SupplierOrder.objects.exists()
    assert not Refund.objects.exists()


def test_the_second_of_two_decisions_is_refused(olivia):
    # given
    batch = batch_in_review(60)
    state.review_approve(batch_id=batch.id, actor=olivia)

    # when / then
    with pytest.raises(state.BatchNotInReview, match="it is confirmed"):
        state.review_cancel(batch_id=batch.id, actor=olivia)
    assert not Refund.objects.exists()


@pytest.mark.parametrize("hours", [0, state.MAX_EXTEND_HOURS + 1])
def test_it_refuses_an_extension_outside_the_allowed_hours(olivia, hours):
    # given
    batch = batch_in_review(60)

    # when / then
    with pytest.raises(ValueError, match="hours must be between 1 and 720"):
        state.review_extend_window(batch_id=batch.id, hours=hours, actor=olivia)
    batch.refresh_from_db()
    assert batch.batch_status == Status.ADMIN_REVIEW
