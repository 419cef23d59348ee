"""The per-product-type pooling lock, held from another connection (PostgreSQL only)."""

import threading

import pytest
from django.db import connection, connections, transaction

from batches.pooling import pooling_claim
from batches.pooling.claim import PRODUCT_LOCK_NAMESPACE, product_lock_key
from orders.models import Order
from tests.conftest import requires_postgres
from tests.factories import SupplierOfferFactory
from tests.pooling.conftest import submitted

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


class ProductLockHolder(threading.Thread):
    """Another claim in flight: holds a product type's pooling lock until released."""

    def __init__(self, product_type: str):
        super().__init__(daemon=True)
        self.product_type = product_type
        self.holding = threading.Event()
        self.release = threading.Event()

    def run(self):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                key = product_lock_key(self.product_type)
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [PRODUCT_LOCK_NAMESPACE, key])
                self.holding.set()
                self.release.wait(30)
        finally:
            connections.close_all()

    def __enter__(self):
        self.start()
        assert self.holding.wait(10)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.join(10)


def test_a_claim_pools_the_product_types_another_claim_does_not_hold(hoodie_offer, orchestration_requests):
    # given
    SupplierOfferFactory(product_type="tee", moq=100)
    hoodies = [submitted(product_type="hoodie") for _ in range(3)]
    tees = [submitted(product_type="tee") for _ in range(3)]

    # when: hoodies are being pooled elsewhere
    with ProductLockHolder("hoodie"):
        claimed = pooling_claim()

    # then: the tees were pooled at once, the hoodies left to the holder
    assert claimed == 3
    assert set(Order.objects.filter(pk__in=[o.pk for o in tees]).values_list("workflow_status", flat=True)) == {
        Order.Status.POOLED
    }
    assert set(Order.objects.filter(pk__in=[o.pk for o in hoodies]).values_list("workflow_status", flat=True)) == {
        Order.Status.SUBMITTED
    }


def test_a_claim_waits_for_a_held_product_type_when_nothing_else_is_due(hoodie_offer, orchestration_requests):
    # given
    submitted(product_type="hoodie")
    results = []

    # when
    with ProductLockHolder("hoodie"):
        claimer = threading.Thread(target=lambda: results.append(_claim_in_thread()), daemon=True)
        claimer.start()
        claimer.join(0.5)
        waited = claimer.is_alive()
    claimer.join(10)

    # then: it waited for the lock, then pooled the order
    assert waited
    assert results == [1]
    assert Order.objects.get().workflow_status == Order.Status.POOLED


def _claim_in_thread() -> int:
    try:
        return pooling_claim()
    finally:
        connections.close_all()
