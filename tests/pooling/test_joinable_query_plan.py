"""The claim's joinable-batch lookup reads only batches with room, whatever the backlog left open."""

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from batches.models import ProductionBatch
from batches.pooling.claim import _lock_joinable_batches
from batches.pooling.routing import ClaimedOrder
from tests.conftest import requires_postgres
from tests.factories import ProductionBatchFactory, SupplierOfferFactory

pytestmark = [pytest.mark.django_db, requires_postgres]


def claimed(product_type: str, quantity: int) -> ClaimedOrder:
    return ClaimedOrder(
        id=uuid.uuid4(), product_type=product_type, quantity=quantity, style_details=[], styles=frozenset()
    )


def test_it_finds_the_batches_with_room_through_the_room_index_not_by_filtering_every_open_batch():
    # given: a large backlog left thousands of near-full open batches waiting for their
    # decision, and a few with room for a 6-unit order
    offer = SupplierOfferFactory(product_type="tee", moq=100)
    template = ProductionBatchFactory.build(offer=offer)
    near_full = [
        ProductionBatch(
            product_type="tee",
            offer=offer,
            supplier=offer.supplier,
            target_quantity=100,
            current_quantity=96 + index % 4,
            max_styles=template.max_styles,
            supplier_unit_price=template.supplier_unit_price,
            window_closes_at=template.window_closes_at,
        )
        for index in range(3000)
    ]
    ProductionBatch.objects.bulk_create(near_full)
    with_room = [ProductionBatchFactory(offer=offer, current_quantity=quantity) for quantity in (10, 50, 94)]
    try:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE batches_productionbatch")

        # when
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            joinable = _lock_joinable_batches({"tee": [claimed("tee", 6), claimed("tee", 12)]}, now=timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {queries.captured_queries[0]['sql']}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
    finally:
        # ANALYZE writes the table's size estimate in place, past the test's rollback: leave
        # it as an empty table's, so later tests' plans do not see 3,000 phantom batches.
        ProductionBatch.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE batches_productionbatch")

    # then: the three batches with room for the smallest order, read through the index on room
    assert {slot.id for slot in joinable["tee"]} == {batch.id for batch in with_room}
    assert "batch_open_room_idx" in plan, plan
