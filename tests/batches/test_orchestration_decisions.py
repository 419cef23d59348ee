import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from batches import state
from batches.models import BatchEvent, ProductionBatch
from batches.orchestration import BatchDecision, batch_decision, orchestration_decide, orchestration_sweep
from orders.models import Order, Refund
from sleekbatch.business_events import BusinessKind
from sleekbatch.correlation import reset_correlation_id, set_correlation_id
from sleekbatch.models import BusinessEvent
from suppliers.models import SupplierOrder
from tests.batches.factories import batch_filled_to, batch_in_review
from tests.factories import ProductionBatchFactory

pytestmark = pytest.mark.django_db

Status = ProductionBatch.Status
Kind = BatchEvent.Kind

# (units of 10,000, window closed?, expected status, nearing_target event?)
BOUNDARIES = [
    (4999, False, Status.OPEN, False),
    (4999, True, Status.CANCELLED, False),
    (5000, False, Status.OPEN, False),
    (5000, True, Status.ADMIN_REVIEW, False),
    (5999, False, Status.OPEN, False),
    (5999, True, Status.ADMIN_REVIEW, False),
    (6000, False, Status.OPEN, True),
    (6000, True, Status.ADMIN_REVIEW, False),
    (7499, False, Status.OPEN, True),
    (7499, True, Status.ADMIN_REVIEW, False),
    (7500, False, Status.CONFIRMED, False),
    (7500, True, Status.CONFIRMED, False),
    (10000, False, Status.CONFIRMED, False),
    (10000, True, Status.CONFIRMED, False),
]


@pytest.mark.parametrize(
    ("current", "window_closed", "expected_status", "expects_nearing"),
    BOUNDARIES,
    ids=[f"{c / 100:.2f}%-{'closed' if closed else 'open'}" for c, closed, _, _ in BOUNDARIES],
)
def test_it_decides_each_boundary_as_the_table_says(current, window_closed, expected_status, expects_nearing):
    # given
    batch = batch_filled_to(current, target=10000, window_closed=window_closed)

    # when
    orchestration_sweep()

    # then
    batch.refresh_from_db()
    assert batch.batch_status == expected_status
    kinds = set(batch.events.values_list("kind", flat=True))
    assert (Kind.NEARING_TARGET in kinds) is expects_nearing
    assert (batch.nearing_target_at is not None) is expects_nearing
    assert SupplierOrder.objects.filter(batch=batch).exists() is (expected_status == Status.CONFIRMED)
    refunds = Refund.objects.filter(order__contribution__batch=batch).count()
    assert refunds == (2 if expected_status == Status.CANCELLED else 0)
    expected_order_status = {
        Status.CONFIRMED: Order.Status.CONFIRMED,
        Status.CANCELLED: Order.Status.REFUNDED,
    }.get(expected_status, Order.Status.POOLED)
    assert set(Order.objects.filter(contribution__batch=batch).values_list("workflow_status", flat=True)) == {
        expected_order_status
    }


def test_it_confirms_by_placing_one_supplier_order_and_confirming_the_orders():
    # given
    batch = batch_filled_to(80, target=100, orders=3)
    token = set_correlation_id("sweep-corr-1")

    # when
    try:
        orchestration_sweep()
    finally:
        reset_correlation_id(token)

    # then
    batch.refresh_from_db()
    assert batch.confirmed_at is not None
    supplier_order = SupplierOrder.objects.get(batch=batch)
    assert re.fullmatch(r"SO-\d{8}-[A-HJ-NP-Z2-9]{10}", supplier_order.order_number)
    assert supplier_order.status == SupplierOrder.Status.PLACED
    assert supplier_order.correlation_id == "sweep-corr-1"
    assert supplier_order.buyer_order_id is None
    assert supplier_order.supplier_id == batch.supplier_id
    assert supplier_order.quantity == 80
    assert supplier_order.supplier_price == Decimal("10.00") == batch.supplier_unit_price
    assert supplier_order.promised_date == (batch.confirmed_at + timedelta(days=batch.offer.lead_time_days)).date()
    assert Order.objects.filter(contribution__batch=batch, workflow_status=Order.Status.CONFIRMED).count() == 3
    event = batch.events.get()
    assert (event.kind, event.from_status, event.to_status) == (Kind.CONFIRMED, Status.OPEN, Status.CONFIRMED)
    assert event.fill_percent == Decimal("80.00")
    assert event.actor is None
    assert event.correlation_id == "sweep-corr-1"


def test_it_cancels_by_refunding_each_order_its_total_price():
    # given
    batch = batch_filled_to(49, target=100, window_closed=True, orders=3)
    orders = list(Order.objects.filter(contribution__batch=batch))

    # when
    orchestration_sweep()

    # then
    batch.refresh_from_db()
    assert batch.cancelled_at is not None
    for order in orders:
        order.refresh_from_db()
        assert order.workflow_status == Order.Status.REFUNDED
        assert order.refund.amount == order.total_price
    event = batch.events.get()
    assert (event.kind, event.from_status, event.to_status) == (Kind.CANCELLED, Status.OPEN, Status.CANCELLED)
    assert event.fill_percent == Decimal("49.00")
    assert event.details == {"reason": "Batch cancelled: below 50% of its target when its window closed"}
    assert not SupplierOrder.objects.filter(batch=batch).exists()


def test_it_sends_to_review_without_acting_on_the_orders():
    # given
    batch = batch_filled_to(62, target=100, window_closed=True)

    # when
    orchestration_sweep()

    # then
    batch.refresh_from_db()
    assert batch.batch_status == Status.ADMIN_REVIEW
    assert batch.review_started_at is not None
    assert list(batch.events.values_list("kind", "from_status", "to_status")) == [
        (Kind.ADMIN_REVIEW, Status.OPEN, Status.ADMIN_REVIEW)
    ]
    assert not Refund.objects.exists()
    assert not SupplierOrder.objects.exists()
    assert set(Order.objects.values_list("workflow_status", flat=True)) == {Order.Status.POOLED}


def test_it_writes_the_nearing_target_event_once_however_often_it_sweeps():
    # given
    batch = batch_filled_to(65, target=100)

    # when
    first = orchestration_sweep()
    second = orchestration_sweep()

    # then
    assert first.nearing_target == [batch.id]
    assert second.decided == 0
    assert batch.events.filter(kind=Kind.NEARING_TARGET).count() == 1
    batch.refresh_from_db()
    assert batch.batch_status == Status.OPEN


def test_a_second_sweep_changes_nothing():
    # given
    batches = [
        batch_filled_to(90),
        batch_filled_to(70),
        batch_filled_to(55, window_closed=True),
        batch_filled_to(20, window_closed=True),
    ]
    orchestration_sweep()
    snapshot = (
        BatchEvent.objects.count(),
        SupplierOrder.objects.count(),
        Refund.objects.count(),
        sorted(ProductionBatch.objects.values_list("batch_status", "updated_at")),
    )

    # when
    result = orchestration_sweep()

    # then
    assert result.decided == 0
    assert snapshot == (
        BatchEvent.objects.count(),
        SupplierOrder.objects.count(),
        Refund.objects.count(),
        sorted(ProductionBatch.objects.values_list("batch_status", "updated_at")),
    )
    assert snapshot[:3] == (len(batches), 1, 2)


def test_it_leaves_batches_that_need_no_attention_untouched():
    # given
    quiet_open = batch_filled_to(30)
    already_nearing = batch_filled_to(70, nearing_target_at=timezone.now())
    in_review = batch_filled_to(55, window_closed=True, batch_status=Status.ADMIN_REVIEW)
    confirmed = batch_filled_to(10, window_closed=True, batch_status=Status.CONFIRMED)

    # when
    result = orchestration_sweep()

    # then
    assert result.decided == 0
    for batch, status in [
        (quiet_open, Status.OPEN),
        (already_nearing, Status.OPEN),
        (in_review, Status.ADMIN_REVIEW),
        (confirmed, Status.CONFIRMED),
    ]:
        batch.refresh_from_db()
        assert batch.batch_status == status
    assert not BatchEvent.objects.exists()


def test_it_sweeps_every_due_batch_across_several_chunks():
    # given
    due = [batch_filled_to(fill, window_closed=True, orders=1) for fill in (10, 20, 52, 58, 76, 99, 100)]

    # when
    result = orchestration_sweep(chunk_size=2)

    # then
    assert result.counts() == {
        "confirmed": 3,
        "sent_to_review": 2,
        "cancelled": 2,
        "nearing_target": 0,
        "decided": 7,
    }
    assert not ProductionBatch.objects.filter(id__in=[b.id for b in due], batch_status=Status.OPEN).exists()


def test_the_due_query_counts_the_window_closed_at_its_exact_closing_time():
    # given
    now = timezone.now()
    batch = batch_filled_to(30)
    ProductionBatch.objects.filter(id=batch.id).update(window_closes_at=now)

    # when
    orchestration_sweep(now=now)

    # then
    batch.refresh_from_db()
    assert batch.batch_status == Status.CANCELLED


def test_orchestrating_one_batch_confirms_it_at_the_threshold_without_a_sweep():
    # given
    batch = batch_filled_to(75, target=100)
    other_due = batch_filled_to(80, target=100)

    # when
    result = orchestration_decide(batch_ids=[batch.id])

    # then
    assert result.confirmed == [batch.id]
    batch.refresh_from_db()
    other_due.refresh_from_db()
    assert batch.batch_status == Status.CONFIRMED
    assert other_due.batch_status == Status.OPEN


def test_orchestrating_a_decided_batch_again_does_nothing():
    # given
    batch = batch_filled_to(75, target=100)
    orchestration_decide(batch_ids=[batch.id])

    # when
    again = orchestration_decide(batch_ids=[batch.id])

    # then
    assert again.decided == 0
    assert batch.events.count() == 1
    assert SupplierOrder.objects.filter(batch=batch).count() == 1


def test_a_transition_from_the_wrong_state_moves_nothing_and_writes_nothing():
    # given
    batch = batch_filled_to(90, target=100, batch_status=Status.CANCELLED)

    # when
    moved = state.batches_confirm(batch_ids=[batch.id])

    # then
    assert moved == []
    assert not BatchEvent.objects.exists()
    assert not SupplierOrder.objects.exists()


def test_a_duplicate_side_effect_rolls_the_whole_transition_back():
    # given: a supplier order already exists for the batch (it should never), so the
    # unique constraint must stop the confirmation rather than place a second one
    batch = batch_filled_to(90, target=100)
    SupplierOrder.objects.create(
        order_number="SO-EXISTING",
        supplier=batch.supplier,
        batch=batch,
        product_type="hoodie",
        quantity=1,
        supplier_price="1.00",
    )

    # when
    with pytest.raises(IntegrityError):
        state.batches_confirm(batch_ids=[batch.id])

    # then
    batch.refresh_from_db()
    assert batch.batch_status == Status.OPEN
    assert not BatchEvent.objects.exists()
    assert set(Order.objects.values_list("workflow_status", flat=True)) == {Order.Status.POOLED}


def test_thresholds_come_from_settings(settings):
    # given
    settings.BATCH_CONFIRM_FILL_PERCENT = 90
    batch = batch_filled_to(80, target=100)

    # when
    orchestration_sweep()

    # then
    batch.refresh_from_db()
    assert batch.batch_status == Status.OPEN
    assert list(batch.events.values_list("kind", flat=True)) == [Kind.NEARING_TARGET]


@pytest.mark.django_db(transaction=True)
def test_pooling_hand_over_decides_only_the_batches_named_and_only_once():
    # given: two batches at the confirm threshold, one below, and one named twice
    due = [ProductionBatchFactory(target_quantity=100, current_quantity=q) for q in (75, 90)]
    below = ProductionBatchFactory(target_quantity=100, current_quantity=40)
    other_due = ProductionBatchFactory(target_quantity=100, current_quantity=80)

    # when
    first = orchestration_decide(batch_ids=[due[0].id, due[1].id, below.id])
    again = orchestration_decide(batch_ids=[due[0].id, due[1].id, below.id])

    # then
    assert sorted(first.confirmed) == sorted(b.id for b in due)
    assert first.decided == 2
    assert again.decided == 0
    statuses = dict(ProductionBatch.objects.values_list("id", "batch_status"))
    assert statuses[below.id] == "open"
    assert statuses[other_due.id] == "open"  # not named: left to the sweep


@pytest.mark.parametrize(
    "current, window_closed, nearing_marked, expected",
    [
        (7499, False, False, BatchDecision.NEARING_TARGET),
        (7499, False, True, None),
        (7500, False, False, BatchDecision.CONFIRM),
        (7499, True, False, BatchDecision.REVIEW),
        (5000, True, False, BatchDecision.REVIEW),
        (4999, True, False, BatchDecision.CANCEL),
        (5999, False, False, None),
    ],
)
def test_the_decision_table_names_each_outcome_with_a_string_enum(current, window_closed, nearing_marked, expected):
    decision = batch_decision(
        current_quantity=current, target_quantity=10_000, window_closed=window_closed, nearing_marked=nearing_marked
    )

    assert decision is expected
    assert decision is None or decision == str(decision.value)


def test_confirming_many_batches_places_each_its_own_supplier_order_in_one_go():
    # given: two open batches whose offers promise different lead times, and one in review
    quick = batch_filled_to(90, target=100, offer__lead_time_days=3, supplier_unit_price=Decimal("7.25"))
    slow = batch_filled_to(95, target=100, offer__lead_time_days=21)
    untouched = batch_in_review(60)

    # when
    confirmed = state.batches_confirm(batch_ids=[quick.id, slow.id, untouched.id, quick.id])
    again = state.batches_confirm(batch_ids=[quick.id, slow.id])

    # then: one supplier order per confirmed batch, at its tier price and lead time, none twice
    assert set(confirmed) == {quick.id, slow.id}
    assert again == []
    placed = {order.batch_id: order for order in SupplierOrder.objects.all()}
    assert set(placed) == {quick.id, slow.id}
    today = timezone.localdate()
    assert placed[quick.id].promised_date == today + timedelta(days=3)
    assert placed[slow.id].promised_date == today + timedelta(days=21)
    assert (placed[quick.id].quantity, placed[quick.id].supplier_price) == (90, Decimal("7.25"))
    assert placed[quick.id].order_number != placed[slow.id].order_number
    events = BusinessEvent.objects.filter(kind=BusinessKind.SUPPLIER_ORDER_PLACED)
    assert sorted((e.batch_id, e.quantity, e.amount) for e in events) == sorted(
        (o.batch_id, o.quantity, o.quantity * o.supplier_price) for o in placed.values()
    )
