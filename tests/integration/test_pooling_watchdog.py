"""Workers pool orders whose trigger was lost, without beat and without any new order."""

import time

from batches.pooling.tasks import DRAIN_REQUEST
from orders.models import Order
from tests.factories import OrderFactory, SupplierOfferFactory, UserFactory
from tests.integration.workers import wait_until


def test_a_lost_trigger_is_recovered_by_the_workers_without_beat(workers):
    # given: orders waiting, a drain "requested" whose message was lost, and no beat
    SupplierOfferFactory(product_type="hoodie", moq=100, max_styles=3)
    buyer = UserFactory()
    Order.objects.bulk_create([OrderFactory.build(buyer=buyer, product_type="hoodie", quantity=10) for _ in range(40)])
    DRAIN_REQUEST.clear()  # an earlier test's drain may still hold the flag for its few seconds
    assert DRAIN_REQUEST.set_if_absent()

    # when: a worker starts, and nothing else happens
    started = time.monotonic()
    workers(count=1, concurrency=1)
    wait_until(
        lambda: not Order.objects.filter(workflow_status=Order.Status.SUBMITTED).exists(),
        timeout=30,
        message="the lost trigger's orders pooled",
    )

    # then: within the flag's life and a watchdog period or two of the orders going stale
    assert time.monotonic() - started < 20
    assert Order.objects.filter(pooled_at__isnull=False).count() == 40  # pooled (some batches confirmed since)
