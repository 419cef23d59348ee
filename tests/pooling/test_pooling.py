from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from batches.models import BatchContribution, BatchEvent, ProductionBatch
from batches.pooling import pooling_claim
from orders.models import Notification, Order
from suppliers.models import SupplierOrder
from tests.pooling.conftest import open_batch, submitted

pytestmark = pytest.mark.django_db(transaction=True)


def refreshed(*objects):
    for obj in objects:
        obj.refresh_from_db()
    return objects


def test_it_opens_a_batch_with_the_best_offer_when_none_is_joinable(hoodie_offer, orchestration_requests, settings):
    # given
    order = submitted(quantity=10)
    before = timezone.now()

    # when
    claimed = pooling_claim()

    # then
    assert claimed == 1
    batch = ProductionBatch.objects.get()
    assert (batch.offer_id, batch.supplier_id, batch.product_type) == (
        hoodie_offer.id,
        hoodie_offer.supplier_id,
        "hoodie",
    )
    assert (batch.batch_status, batch.target_quantity, batch.current_quantity) == ("open", 100, 10)
    assert batch.supplier_unit_price == Decimal("10.00")  # the tier at the target, frozen
    assert batch.styles == ["classic"] and batch.max_styles == 3
    assert before + settings.BATCH_WINDOW <= batch.window_closes_at <= timezone.now() + settings.BATCH_WINDOW
    event = BatchEvent.objects.get(batch=batch)
    assert (event.kind, event.to_status, event.fill_percent) == ("created", "open", Decimal("0.00"))
    (order,) = refreshed(order)
    assert order.workflow_status == Order.Status.POOLED and order.is_batch_order
    assert (order.unit_price, order.total_price) == (Decimal("11.50"), Decimal("115.00"))
    assert order.pooled_at is not None
    contribution = BatchContribution.objects.get(order=order)
    assert (contribution.batch_id, contribution.quantity_contributed) == (batch.id, 10)
    assert contribution.unit_price == order.unit_price
    assert contribution.style_details == order.style_details
    assert orchestration_requests == []


def test_it_joins_the_fullest_compatible_batch(hoodie_offer, orchestration_requests):
    # given
    emptier = open_batch(hoodie_offer, current=30)
    fullest = open_batch(hoodie_offer, current=60)
    order = submitted(quantity=10)

    # when
    pooling_claim()

    # then
    emptier, fullest = refreshed(emptier, fullest)
    assert (emptier.current_quantity, fullest.current_quantity) == (30, 70)
    assert BatchContribution.objects.get(order=order).batch_id == fullest.id
    assert ProductionBatch.objects.count() == 2


def test_it_never_splits_an_order_over_the_room_left(hoodie_offer, orchestration_requests):
    # given
    nearly_full = open_batch(hoodie_offer, current=95)
    roomy = open_batch(hoodie_offer, current=40)
    exact_fit = submitted(quantity=5)
    too_big_for_the_fullest = submitted(quantity=10)

    # when
    pooling_claim()

    # then: 5 fills the 95 exactly (the target is inclusive); 10 goes to the next fullest
    nearly_full, roomy = refreshed(nearly_full, roomy)
    assert (nearly_full.current_quantity, roomy.current_quantity) == (100, 50)
    assert BatchContribution.objects.get(order=exact_fit).batch_id == nearly_full.id
    assert BatchContribution.objects.get(order=too_big_for_the_fullest).batch_id == roomy.id


def test_it_keeps_a_batch_within_its_max_styles(hoodie_offer, orchestration_requests):
    # given: a batch already running its three styles
    full_of_styles = open_batch(hoodie_offer, current=50, styles=("classic", "crop", "slim"))
    known_style = submitted(quantity=10, styles=("crop",))
    new_style = submitted(quantity=10, styles=("vintage",))

    # when
    pooling_claim()

    # then
    (full_of_styles,) = refreshed(full_of_styles)
    assert full_of_styles.current_quantity == 60
    assert BatchContribution.objects.get(order=known_style).batch_id == full_of_styles.id
    other = BatchContribution.objects.get(order=new_style).batch
    assert other.id != full_of_styles.id and other.styles == ["vintage"]


def test_it_adds_the_orders_new_styles_to_the_batch(hoodie_offer, orchestration_requests):
    # given
    batch = open_batch(hoodie_offer, current=20, styles=("classic",))
    submitted(quantity=10, styles=("slim", "classic"))

    # when
    pooling_claim()

    # then
    (batch,) = refreshed(batch)
    assert batch.styles == ["classic", "slim"]


def test_it_joins_only_open_batches_whose_window_is_open(hoodie_offer, orchestration_requests):
    # given
    closed_window = open_batch(hoodie_offer, current=50, window_closes_at=timezone.now() - timedelta(minutes=1))
    in_review = open_batch(hoodie_offer, current=60, batch_status=ProductionBatch.Status.ADMIN_REVIEW)
    confirmed = open_batch(hoodie_offer, current=80, batch_status=ProductionBatch.Status.CONFIRMED)
    order = submitted(quantity=10)

    # when
    pooling_claim()

    # then
    batch = BatchContribution.objects.get(order=order).batch
    assert batch.id not in {closed_window.id, in_review.id, confirmed.id}
    assert batch.current_quantity == 10
    assert [b.current_quantity for b in refreshed(closed_window, in_review, confirmed)] == [50, 60, 80]


def test_it_prices_each_order_for_its_own_style_count(hoodie_offer, orchestration_requests):
    # given
    one_style = submitted(quantity=10, styles=("classic",))
    three_styles = submitted(quantity=12, styles=("classic", "crop", "slim"))

    # when
    pooling_claim()

    # then: 10.00 × 1.15, plus 0.50 per style beyond the first
    one_style, three_styles = refreshed(one_style, three_styles)
    assert (one_style.unit_price, one_style.total_price) == (Decimal("11.50"), Decimal("115.00"))
    assert (three_styles.unit_price, three_styles.total_price) == (Decimal("12.50"), Decimal("150.00"))
    assert BatchContribution.objects.get(order=three_styles).unit_price == Decimal("12.50")
    assert one_style.contribution.batch_id == three_styles.contribution.batch_id


def test_it_makes_an_order_that_reaches_the_moq_a_direct_order(hoodie_offer, orchestration_requests):
    # given
    joinable = open_batch(hoodie_offer, current=10)
    order = submitted(quantity=250, styles=("classic", "crop"))

    # when
    pooling_claim()

    # then: priced at the tier its own quantity reaches (9.00 × 1.15 + 0.50)
    (order,) = refreshed(order)
    assert order.workflow_status == Order.Status.CONFIRMED and order.is_batch_order is False
    assert (order.unit_price, order.total_price) == (Decimal("10.85"), Decimal("2712.50"))
    supplier_order = SupplierOrder.objects.get(buyer_order=order)
    assert supplier_order.batch_id is None
    assert (supplier_order.supplier_id, supplier_order.quantity) == (hoodie_offer.supplier_id, 250)
    assert supplier_order.supplier_price == Decimal("9.00")
    assert supplier_order.promised_date == timezone.localdate() + timedelta(days=14)
    assert supplier_order.order_number.startswith("SO-")
    assert not BatchContribution.objects.filter(order=order).exists()
    assert refreshed(joinable)[0].current_quantity == 10
    assert ProductionBatch.objects.count() == 1


def test_it_makes_an_order_of_exactly_the_moq_a_direct_order(hoodie_offer, orchestration_requests):
    # given
    at_moq = submitted(quantity=100)
    below_moq = submitted(quantity=99)

    # when
    pooling_claim()

    # then
    at_moq, below_moq = refreshed(at_moq, below_moq)
    assert (at_moq.workflow_status, at_moq.is_batch_order) == (Order.Status.CONFIRMED, False)
    assert (below_moq.workflow_status, below_moq.is_batch_order) == (Order.Status.POOLED, True)


def test_it_rejects_what_no_supplier_can_make_with_a_reason(hoodie_offer, orchestration_requests, settings):
    # given
    settings.ORDER_MAX_QUANTITY = 500
    nobody_makes_it = submitted(product_type="umbrella")
    too_many_units = submitted(quantity=501)
    too_many_styles = submitted(styles=("classic", "crop", "slim", "vintage"))
    fine = submitted()

    # when
    pooling_claim()

    # then
    nobody_makes_it, too_many_units, too_many_styles, fine = refreshed(
        nobody_makes_it, too_many_units, too_many_styles, fine
    )
    assert nobody_makes_it.workflow_status == Order.Status.REJECTED
    assert nobody_makes_it.rejection_reason == "No active supplier offer for 'umbrella'."
    assert too_many_units.workflow_status == Order.Status.REJECTED
    assert too_many_units.rejection_reason == "Quantity 501 is above the limit of 500."
    assert too_many_styles.workflow_status == Order.Status.REJECTED
    assert "4 styles" in too_many_styles.rejection_reason
    for rejected in (nobody_makes_it, too_many_units, too_many_styles):
        assert rejected.unit_price is None and rejected.total_price is None
        assert not BatchContribution.objects.filter(order=rejected).exists()
    assert not SupplierOrder.objects.exists()
    assert fine.workflow_status == Order.Status.POOLED


def test_a_rejected_order_tells_its_buyer_why_and_asks_for_the_mail_after_commit(
    hoodie_offer, orchestration_requests, monkeypatch
):
    # given: one order nobody makes, one that pools
    from orders import notifications

    sent = []
    monkeypatch.setattr(notifications.app, "send_task", lambda name, *a, **kw: sent.append(name))
    nobody_makes_it = submitted(product_type="umbrella")
    fine = submitted()

    # when
    pooling_claim()

    # then: one rejected notification, for that order's buyer, with the reason; the mailer once
    notification = Notification.objects.get()
    label = f"10 × umbrella (order {str(nobody_makes_it.id)[:8]})"
    assert (notification.order_id, notification.user_id) == (nobody_makes_it.id, nobody_makes_it.buyer_id)
    assert notification.kind == Notification.Kind.ORDER_REJECTED
    assert notification.subject == f"Rejected: {label}"
    assert notification.body == f"Your order {label} could not be placed: No active supplier offer for 'umbrella'."
    assert not Notification.objects.filter(order=fine).exists()
    assert sent == ["orders.send_notification_emails"]


def test_a_claim_without_rejections_records_no_notification_and_sends_no_mail(
    hoodie_offer, orchestration_requests, monkeypatch
):
    from orders import notifications

    sent = []
    monkeypatch.setattr(notifications.app, "send_task", lambda name, *a, **kw: sent.append(name))
    submitted()
    pooling_claim()
    assert not Notification.objects.exists()
    assert sent == []


def test_it_opens_no_more_batches_than_the_quantities_need(hoodie_offer, orchestration_requests):
    # given: 250 units in orders of 10 for batches of 100
    orders = [submitted(quantity=10) for _ in range(25)]

    # when
    pooling_claim()

    # then
    assert sorted(ProductionBatch.objects.values_list("current_quantity", flat=True)) == [50, 100, 100]
    for batch in ProductionBatch.objects.all():
        contributed = batch.contributions.aggregate(total=Sum("quantity_contributed"))["total"]
        assert contributed == batch.current_quantity
    assert BatchContribution.objects.count() == len(orders)


def test_it_claims_the_oldest_submitted_orders_first(hoodie_offer, orchestration_requests):
    # given
    newest, oldest, middle = submitted(), submitted(), submitted()
    now = timezone.now()
    for order, age in ((newest, 1), (oldest, 30), (middle, 10)):
        Order.objects.filter(pk=order.pk).update(created_at=now - timedelta(minutes=age))

    # when
    claimed = pooling_claim(limit=2)

    # then
    assert claimed == 2
    statuses = {order.pk: order.workflow_status for order in refreshed(newest, oldest, middle)}
    assert statuses == {newest.pk: "submitted", oldest.pk: "pooled", middle.pk: "pooled"}


def test_running_it_again_changes_nothing(hoodie_offer, orchestration_requests):
    # given
    for quantity in (10, 30, 150, 60):
        submitted(quantity=quantity)
    submitted(product_type="umbrella")
    pooling_claim()
    snapshot = _snapshot()

    # when
    claimed_again = pooling_claim()

    # then
    assert claimed_again == 0
    assert _snapshot() == snapshot


def test_it_updates_a_batch_row_once_per_claim_however_many_orders_join(hoodie_offer, orchestration_requests):
    # given
    batch = open_batch(hoodie_offer, current=0, styles=())
    for _ in range(40):
        submitted(quantity=2)

    # when
    with CaptureQueriesContext(connection) as queries:
        pooling_claim()

    # then
    batch_updates = [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith("UPDATE") and "batches_productionbatch" in q["sql"]
    ]
    assert len(batch_updates) == 1
    (batch,) = refreshed(batch)
    assert batch.current_quantity == 80
    assert len(queries) < 20  # bulk writes: the statement count does not grow with the orders


def test_it_asks_for_the_batch_to_be_decided_when_it_reaches_the_confirm_threshold(
    hoodie_offer, orchestration_requests, settings
):
    # given
    settings.BATCH_CONFIRM_FILL_PERCENT = 75
    batch = open_batch(hoodie_offer, current=65)
    submitted(quantity=5)

    # when: 70%, then exactly 75%, then 85%
    pooling_claim()
    after_first = list(orchestration_requests)
    submitted(quantity=5)
    pooling_claim()
    after_second = list(orchestration_requests)
    submitted(quantity=10)
    pooling_claim()

    # then: once, when it crossed
    assert after_first == []
    assert after_second == [[str(batch.id)]]
    assert orchestration_requests == [[str(batch.id)]]


def test_it_asks_once_for_all_the_batches_a_claim_brings_to_the_threshold(hoodie_offer, orchestration_requests):
    # given
    first = open_batch(hoodie_offer, current=70)
    second = open_batch(hoodie_offer, current=70, styles=("slim",))
    submitted(quantity=20, styles=("classic",))
    submitted(quantity=20, styles=("slim",))

    # when
    pooling_claim()

    # then: one message naming both
    assert orchestration_requests == [sorted([str(first.id), str(second.id)])]


def test_it_asks_for_nothing_when_the_claim_rolls_back(hoodie_offer, orchestration_requests, monkeypatch):
    # given
    open_batch(hoodie_offer, current=70)
    order = submitted(quantity=20)

    def fail(*args, **kwargs):
        raise RuntimeError("worker lost mid-claim")

    monkeypatch.setattr("batches.pooling.writes.supplier_orders_place", fail)
    submitted(quantity=150)  # a direct order, so the claim reaches the failing write

    # when
    with pytest.raises(RuntimeError):
        pooling_claim()

    # then
    (order,) = refreshed(order)
    assert order.workflow_status == Order.Status.SUBMITTED
    assert not BatchContribution.objects.exists()
    assert ProductionBatch.objects.get().current_quantity == 70
    assert orchestration_requests == []


def _snapshot():
    return {
        "orders": sorted(
            Order.objects.values_list("id", "workflow_status", "unit_price", "total_price", "pooled_at", "updated_at")
        ),
        "batches": sorted(ProductionBatch.objects.values_list("id", "current_quantity", "styles", "updated_at")),
        "contributions": sorted(BatchContribution.objects.values_list("order_id", "batch_id", "quantity_contributed")),
        "events": BatchEvent.objects.count(),
        "supplier_orders": sorted(SupplierOrder.objects.values_list("buyer_order_id", "order_number")),
    }
