"""Two sweeps and a stream of single-batch orchestrations at once, in real worker processes."""

from celery import group

from batches.models import BatchEvent, ProductionBatch
from batches.tasks import orchestrate_batches, orchestrate_sweep
from orders.models import Order, Refund
from suppliers.models import SupplierOrder
from tests.batches.factories import batch_filled_to

Status = ProductionBatch.Status
Kind = BatchEvent.Kind

# Small chunks so the two sweeps interleave many transactions instead of one taking everything.
CHUNK = 4


def _seed():
    return {
        "confirm": [batch_filled_to(75 + i % 26, window_closed=i % 2 == 0) for i in range(30)],
        "review": [batch_filled_to(50 + i % 25, window_closed=True) for i in range(30)],
        "cancel": [batch_filled_to(2 + i % 48, window_closed=True) for i in range(30)],
        "nearing": [batch_filled_to(60 + i % 15) for i in range(15)],
        "quiet": [batch_filled_to(40) for _ in range(10)],
    }


def _run_concurrently(confirm_due):
    tasks = [orchestrate_sweep.s(chunk_size=CHUNK), orchestrate_sweep.s(chunk_size=CHUNK)]
    # the pooling hand-over, one message per batch here so each races the sweeps on its own
    tasks += [orchestrate_batches.s([str(batch.id)]) for batch in confirm_due]
    return group(tasks).apply_async(ignore_result=False).get(timeout=120)


def _snapshot():
    return {
        "events": sorted(BatchEvent.objects.values_list("batch_id", "kind", "from_status", "to_status")),
        "supplier_orders": sorted(SupplierOrder.objects.values_list("batch_id", "order_number")),
        "refunds": sorted(Refund.objects.values_list("order_id", "amount")),
        "batches": sorted(ProductionBatch.objects.values_list("id", "batch_status", "updated_at")),
        "orders": sorted(Order.objects.values_list("id", "workflow_status")),
    }


def _ids(batches):
    return [batch.id for batch in batches]


def test_two_sweeps_at_once_decide_each_batch_exactly_once(workers):
    # given
    seeded = _seed()
    workers(count=2, concurrency=2)

    # when
    results = _run_concurrently(seeded["confirm"])

    # then: every due batch was decided by exactly one of the tasks
    sweeps, hand_overs = results[:2], results[2:]
    decided_by_sweeps = sum(sweep["decided"] for sweep in sweeps)
    decided_by_hand_overs = sum(hand_over["decided"] for hand_over in hand_overs)
    assert decided_by_sweeps + decided_by_hand_overs == 30 + 30 + 30 + 15

    # one supplier order per confirmed batch, none elsewhere
    confirmed = _ids(seeded["confirm"])
    assert set(ProductionBatch.objects.filter(id__in=confirmed).values_list("batch_status", flat=True)) == {
        Status.CONFIRMED
    }
    assert sorted(SupplierOrder.objects.values_list("batch_id", flat=True)) == sorted(confirmed)

    # one refund per order of a cancelled batch, for its total price, none elsewhere
    cancelled = _ids(seeded["cancel"])
    assert set(ProductionBatch.objects.filter(id__in=cancelled).values_list("batch_status", flat=True)) == {
        Status.CANCELLED
    }
    cancelled_orders = Order.objects.filter(contribution__batch_id__in=cancelled)
    assert Refund.objects.count() == cancelled_orders.count() == 60
    assert not Refund.objects.exclude(order__in=cancelled_orders).exists()
    for order in cancelled_orders.select_related("refund"):
        assert order.refund.amount == order.total_price

    # review and nearing batches, and the quiet ones, as the table says
    review = _ids(seeded["review"])
    assert set(ProductionBatch.objects.filter(id__in=review).values_list("batch_status", flat=True)) == {
        Status.ADMIN_REVIEW
    }
    nearing = _ids(seeded["nearing"])
    assert not ProductionBatch.objects.filter(id__in=nearing, nearing_target_at__isnull=True).exists()
    assert not BatchEvent.objects.filter(batch_id__in=_ids(seeded["quiet"])).exists()

    # one event per transition
    kinds = {
        Kind.CONFIRMED: confirmed,
        Kind.CANCELLED: cancelled,
        Kind.ADMIN_REVIEW: review,
        Kind.NEARING_TARGET: nearing,
    }
    for kind, batch_ids in kinds.items():
        assert sorted(BatchEvent.objects.filter(kind=kind).values_list("batch_id", flat=True)) == sorted(batch_ids)
    assert BatchEvent.objects.count() == 105

    # the orders moved with their batches
    assert set(
        Order.objects.filter(contribution__batch_id__in=confirmed).values_list("workflow_status", flat=True)
    ) == {Order.Status.CONFIRMED}
    assert set(cancelled_orders.values_list("workflow_status", flat=True)) == {Order.Status.REFUNDED}
    assert set(
        Order.objects.filter(contribution__batch_id__in=review + nearing).values_list("workflow_status", flat=True)
    ) == {Order.Status.POOLED}

    # when: everything runs again
    before = _snapshot()
    again = _run_concurrently(seeded["confirm"])

    # then: nothing changed
    assert [sweep["decided"] for sweep in again[:2]] == [0, 0]
    assert [hand_over["decided"] for hand_over in again[2:]] == [0] * len(seeded["confirm"])
    assert _snapshot() == before
