"""Reads of production batches: what the sweep must look at, what the review queue and the API show."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, F, OuterRef, QuerySet

from batches.fill import fill_basis_points
from batches.models import BatchContribution, ProductionBatch
from orders.models import Order
from sleekbatch.roles import BUYER, OPS, has_role
from suppliers.pricing import to_cents

Status = ProductionBatch.Status


def batches_due_for_orchestration(*, now: datetime) -> list[QuerySet[ProductionBatch]]:
    """Open batches that call for a decision or an event, as three index-driven selections.

    Windows closed, fill at the confirm threshold, fill at the nearing threshold without its
    event yet: each is one partial index on open batches (``batch_open_window_idx``,
    ``batch_open_fill_idx``, ``batch_open_not_nearing_idx``), read in index order so that a
    ``LIMIT`` chunk stops after the rows it takes. One query with the three conditions OR-ed
    cannot be read in any index's order, and with a ``LIMIT`` the planner then prefers to scan
    every open batch. A batch can be in more than one selection; the decision table, not the
    selection, says what it becomes. With none due the three cost a few index pages each.
    """
    confirm_bp = fill_basis_points(settings.BATCH_CONFIRM_FILL_PERCENT)
    nearing_bp = fill_basis_points(settings.BATCH_NEARING_FILL_PERCENT)
    open_batches = ProductionBatch.objects.filter(batch_status=Status.OPEN)
    return [
        open_batches.filter(window_closes_at__lte=now).order_by("window_closes_at"),
        open_batches.filter(fill_basis_points__gte=confirm_bp).order_by("-fill_basis_points"),
        open_batches.filter(fill_basis_points__gte=nearing_bp, nearing_target_at__isnull=True).order_by(
            "fill_basis_points"
        ),
    ]


def batches_in_review() -> QuerySet[ProductionBatch]:
    """The review queue, oldest decision first."""
    return (
        ProductionBatch.objects.filter(batch_status=Status.ADMIN_REVIEW)
        .select_related("supplier")
        .order_by("review_started_at", "created_at")
    )


def batches_visible_to(user) -> QuerySet[ProductionBatch]:
    """Ops see every batch; a buyer sees the batches that hold one of their orders; others none."""
    batches = ProductionBatch.objects.select_related("supplier", "supplier_order")
    if has_role(user, OPS):
        return batches
    if has_role(user, BUYER):
        own = BatchContribution.objects.filter(batch_id=OuterRef("pk"), order__buyer=user)
        return batches.filter(Exists(own))
    return batches.none()


@dataclass(frozen=True)
class DecisionPreview:
    """What approving or cancelling one batch in review would do, for the confirmation page."""

    batch: ProductionBatch
    supplier_order_total: Decimal  # the supplier order approval places: quantity × frozen tier price
    orders: list  # the pooled orders, each with ``refund_amount`` (what cancelling pays it back)
    refund_total: Decimal


def batch_decision_previews(batch_ids) -> list[DecisionPreview]:
    """Previews of the batches still in review among ``batch_ids``, oldest decision first (two queries)."""
    batches = list(batches_in_review().filter(id__in=list(batch_ids)))
    orders_by_batch: dict = {batch.id: [] for batch in batches}
    orders = (
        Order.objects.filter(contribution__batch_id__in=orders_by_batch, workflow_status=Order.Status.POOLED)
        .select_related("buyer")
        .annotate(batch_id=F("contribution__batch_id"))
        .order_by("created_at")
    )
    for order in orders:
        # What batches_cancel refunds: the order's total price (none yet counts as 0).
        order.refund_amount = order.total_price if order.total_price is not None else Decimal("0.00")
        orders_by_batch[order.batch_id].append(order)
    return [
        DecisionPreview(
            batch=batch,
            supplier_order_total=to_cents(batch.supplier_unit_price * batch.current_quantity),
            orders=orders_by_batch[batch.id],
            refund_total=sum((order.refund_amount for order in orders_by_batch[batch.id]), Decimal("0.00")),
        )
        for batch in batches
    ]
