"""Pooling under real concurrency: worker processes on PostgreSQL + Redis, one hot product type.

Quantities are chosen so that the right number of batches is exact: MOQ 100 and every
pooled order 10 units of one style, so N pooled orders need exactly N / 10 full batches.
Anything more is fragmentation from racing creators; anything off in a batch's
quantity is a lost or doubled update.
"""

import math

from django.db import transaction
from django.db.models import Count, Sum

from batches.models import BatchContribution, ProductionBatch
from batches.pooling.tasks import drain_submitted, recover_submitted, request_pooling
from orders.models import Order
from suppliers.models import SupplierOrder
from tests.factories import OrderFactory, SupplierOfferFactory, UserFactory
from tests.integration.workers import wait_until

MOQ = 100
ORDER_QUANTITY = 10
TIERS = [{"min_quantity": 1, "unit_price": "12.00"}, {"min_quantity": 100, "unit_price": "10.00"}]
# Small claims make many more of them race for the same product type; confirming only
# full batches keeps orchestration from closing a batch that pooling could still fill
# (which would rightly open another one and blur the fragmentation count).
WORKER_ENV = {"SLEEKBATCH_POOLING_CLAIM_CHUNK": "25", "SLEEKBATCH_CONFIRM_FILL_PERCENT": "100"}


def _insert_submitted(count: int, buyer, *, quantity: int = ORDER_QUANTITY, product_type: str = "hoodie"):
    Order.objects.bulk_create(
        [
            OrderFactory.build(
                buyer=buyer,
                product_type=product_type,
                quantity=quantity,
                style_details=[{"style": "classic", "sizes": {"M": quantity}}],
            )
            for _ in range(count)
        ]
    )


def _submit_burst(count: int, buyer, **kwargs) -> None:
    """What the intake does: commit the orders, then ask for pooling."""
    with transaction.atomic():
        _insert_submitted(count, buyer, **kwargs)
        transaction.on_commit(request_pooling)


def _nothing_submitted() -> bool:
    return not Order.objects.filter(workflow_status=Order.Status.SUBMITTED).exists()


def _assert_pooling_invariants(*, pooled_orders: int) -> None:
    assert _nothing_submitted()
    batch_orders = Order.objects.filter(is_batch_order=True).exclude(workflow_status=Order.Status.REJECTED)
    assert batch_orders.count() == pooled_orders
    # one contribution per pooled order, of its whole quantity
    assert BatchContribution.objects.count() == pooled_orders
    assert BatchContribution.objects.values("order_id").distinct().count() == pooled_orders
    assert not batch_orders.filter(contribution__isnull=True).exists()
    assert not BatchContribution.objects.exclude(quantity_contributed=ORDER_QUANTITY).exists()
    # every batch holds exactly what its contributions say, within its target
    for batch in ProductionBatch.objects.annotate(total=Sum("contributions__quantity_contributed")):
        assert batch.total == batch.current_quantity <= batch.target_quantity, batch
    # no more batches than the quantities need, and all but possibly the last are full
    needed = math.ceil(pooled_orders * ORDER_QUANTITY / MOQ)
    assert ProductionBatch.objects.count() == needed
    assert ProductionBatch.objects.filter(current_quantity__lt=MOQ).count() <= 1


def _pooling_snapshot() -> dict:
    """What pooling writes (orchestration may still move statuses; it changes none of this)."""
    return {
        "orders": sorted(
            Order.objects.values_list(
                "id", "is_batch_order", "unit_price", "total_price", "pooled_at", "rejection_reason"
            )
        ),
        "batches": sorted(ProductionBatch.objects.values_list("id", "current_quantity", "styles", "target_quantity")),
        "contributions": sorted(BatchContribution.objects.values_list("order_id", "batch_id", "quantity_contributed")),
        "direct_supplier_orders": sorted(
            SupplierOrder.objects.filter(buyer_order__isnull=False).values_list("buyer_order_id", "order_number")
        ),
    }


def test_racing_workers_pool_thousands_of_orders_of_one_product_type_exactly_once(workers):
    # given
    SupplierOfferFactory(product_type="hoodie", moq=MOQ, max_styles=3, price_tiers=TIERS)
    buyer = UserFactory()
    workers(count=4, concurrency=1, **WORKER_ENV)

    # when: a backlog, four drains racing over it, and bursts submitted while they run
    _insert_submitted(2000, buyer)
    for _ in range(4):
        drain_submitted.delay()
    for _ in range(10):
        _submit_burst(100, buyer)
    _submit_burst(20, buyer, quantity=150)  # direct orders
    _submit_burst(20, buyer, product_type="umbrella")  # nobody makes umbrellas
    wait_until(_nothing_submitted, timeout=180, message="every order out of submitted")

    # then
    _assert_pooling_invariants(pooled_orders=3000)
    direct = Order.objects.filter(is_batch_order=False)
    assert direct.count() == 20
    assert set(direct.values_list("workflow_status", flat=True)) == {Order.Status.CONFIRMED}
    assert SupplierOrder.objects.filter(buyer_order__in=direct).count() == 20
    rejected = Order.objects.filter(workflow_status=Order.Status.REJECTED)
    assert rejected.count() == 20
    assert set(rejected.values_list("rejection_reason", flat=True)) == {"No active supplier offer for 'umbrella'."}
    assert not Order.objects.values("id").annotate(n=Count("contribution")).filter(n__gt=1).exists()

    # when: every task runs again
    snapshot = _pooling_snapshot()
    again = [drain_submitted.apply_async(ignore_result=False) for _ in range(4)]
    recovered = recover_submitted.apply_async(ignore_result=False)

    # then: nothing was left to do, and nothing changed
    assert [result.get(timeout=60) for result in again] == [0, 0, 0, 0]
    assert recovered.get(timeout=60) is False
    assert _pooling_snapshot() == snapshot


def test_a_worker_killed_mid_drain_loses_and_doubles_nothing(workers):
    # given: one worker child, so the one that is killed is the one draining
    SupplierOfferFactory(product_type="hoodie", moq=MOQ, max_styles=3, price_tiers=TIERS)
    buyer = UserFactory()
    pool = workers(count=1, concurrency=1, SLEEKBATCH_POOLING_CLAIM_CHUNK="10", SLEEKBATCH_CONFIRM_FILL_PERCENT="100")
    _insert_submitted(6000, buyer)

    # when: the drain is under way, its process dies (SIGKILL: no cleanup, mid-transaction)
    request_pooling()
    wait_until(
        lambda: Order.objects.filter(workflow_status=Order.Status.POOLED).count() >= 200,
        timeout=60,
        interval=0.05,
        message="the drain under way",
    )
    pool.kill_one_child()
    left_when_killed = Order.objects.filter(workflow_status=Order.Status.SUBMITTED).count()

    # then: the message comes back (acks_late, reject_on_worker_lost), the claim that was
    # in flight rolled back, and a new child finishes the drain
    assert left_when_killed > 0
    wait_until(_nothing_submitted, timeout=180, message="every order pooled after the kill")
    _assert_pooling_invariants(pooled_orders=6000)
