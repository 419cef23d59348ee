"""Reads of production batches: what the sweep must look at, what the review queue and the API show."""

from datetime import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet

from batches.models import BatchContribution, ProductionBatch
from sleekbatch.roles import BUYER, OPS, has_role

Status = ProductionBatch.Status


def basis_points(percent: int) -> int:
    """A percent threshold in the units of ``fill_basis_points`` (75 → 7500).

    ``fill_basis_points`` is ``current * 10000 / target`` truncated, so for a whole-number
    threshold ``fill_basis_points >= 7500`` holds exactly when ``current * 100 >= target * 75``:
    74.99% never passes for 75%.
    """
    return int(percent) * 100


def batches_due_for_orchestration(*, now: datetime) -> QuerySet[ProductionBatch]:
    """Open batches that call for a decision or an event, and only those.

    Each branch of the OR is served by a partial index on open batches (``batch_open_window_idx``,
    ``batch_open_fill_idx``), so the query costs what the due batches cost, not what the open
    ones do: with none due it reads a few index pages.
    """
    confirm_bp = basis_points(settings.BATCH_CONFIRM_FILL_PERCENT)
    nearing_bp = basis_points(settings.BATCH_NEARING_FILL_PERCENT)
    return ProductionBatch.objects.filter(
        Q(window_closes_at__lte=now)
        | Q(fill_basis_points__gte=confirm_bp)
        | Q(fill_basis_points__gte=nearing_bp, nearing_target_at__isnull=True),
        batch_status=Status.OPEN,
    ).order_by()


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
