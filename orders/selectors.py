"""Reads for orders: what a user may see, and what pooling's recovery check asks."""

import uuid
from datetime import timedelta

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from orders.models import BulkSubmission, Order
from sleekbatch.roles import OPS, has_role


def order_with_batch_id() -> QuerySet[Order]:
    """Orders with ``contribution_batch_id``, the id of the batch that pooled each (or None).

    Read through the reverse relation a batch contribution adds to ``Order``, so the
    orders app names no batch model; the order serializer reads the annotation.
    """
    return Order.objects.select_related("buyer", "refund").annotate(
        contribution_batch_id=F("contribution__batch_id"),
        # The supplier order that makes it: its own (a direct order) or its batch's.
        expected_delivery=Coalesce(
            F("direct_supplier_order__promised_date"), F("contribution__batch__supplier_order__promised_date")
        ),
    )


def order_visible_to(*, user) -> QuerySet[Order]:
    """Ops see every order, a buyer only their own."""
    orders = order_with_batch_id()
    if has_role(user, OPS):
        return orders
    return orders.filter(buyer=user)


def order_list(*, user, status: str | None = None) -> QuerySet[Order]:
    orders = order_visible_to(user=user)
    if status:
        orders = orders.filter(workflow_status=status)
    return orders


def order_get(*, user, order_id: uuid.UUID) -> Order | None:
    return order_visible_to(user=user).filter(pk=order_id).first()


def order_get_by_idempotency_key(*, buyer, idempotency_key: str) -> Order | None:
    return order_with_batch_id().filter(buyer=buyer, idempotency_key=idempotency_key).first()


def order_submitted_waiting(*, older_than: timedelta) -> bool:
    """Whether an order has been submitted for longer than ``older_than`` (pooling's recovery check)."""
    return Order.objects.filter(
        workflow_status=Order.Status.SUBMITTED, created_at__lt=timezone.now() - older_than
    ).exists()


def bulk_submission_get(*, buyer, idempotency_key: str) -> BulkSubmission | None:
    return BulkSubmission.objects.filter(buyer=buyer, idempotency_key=idempotency_key).first()


def orders_get_in_order(order_ids: list[str]) -> list[Order]:
    """The orders with these ids, in the order of the ids, with their batch id for the serializer."""
    by_id = {str(order.id): order for order in order_with_batch_id().filter(id__in=order_ids)}
    return [by_id[order_id] for order_id in order_ids if order_id in by_id]
