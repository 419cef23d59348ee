"""Orchestration: decide what each batch that needs attention becomes, then let the state machine move it.

The decision table (thresholds are settings; lower bounds inclusive):

    fill ≥ confirm (75%)              any window   → confirm
    review (50%) ≤ fill < confirm      closed       → admin_review
    fill < review                      closed       → cancel and refund
    nearing (60%) ≤ fill < confirm     open         → nearing_target event, once

Fills are compared on quantities with integers (``current * 100 >= target * 75``), never on a
rounded percent, so 74.99% stays open.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from batches import state
from batches.fill import fill_reaches
from batches.models import ProductionBatch
from batches.selectors import batches_due_for_orchestration

logger = logging.getLogger(__name__)

# Due batches decided per transaction. Each chunk costs about ten statements whatever its size;
# 500 keeps a chunk's locks and transaction under ~0.3 s on the 2-core reference machine (10,000
# due batches sweep in ~20 chunks) while leaving rows for a second sweep to take with SKIP LOCKED.
SWEEP_CHUNK_SIZE = 500


class BatchDecision(StrEnum):
    """What the decision table makes of a batch."""

    CONFIRM = "confirm"
    REVIEW = "admin_review"
    CANCEL = "cancel"
    NEARING_TARGET = "nearing_target"


@dataclass
class OrchestrationResult:
    confirmed: list = field(default_factory=list)
    sent_to_review: list = field(default_factory=list)
    cancelled: list = field(default_factory=list)
    nearing_target: list = field(default_factory=list)

    @property
    def decided(self) -> int:
        return len(self.confirmed) + len(self.sent_to_review) + len(self.cancelled) + len(self.nearing_target)

    def add(self, other: "OrchestrationResult") -> None:
        self.confirmed += other.confirmed
        self.sent_to_review += other.sent_to_review
        self.cancelled += other.cancelled
        self.nearing_target += other.nearing_target

    def counts(self) -> dict[str, int]:
        return {
            "confirmed": len(self.confirmed),
            "sent_to_review": len(self.sent_to_review),
            "cancelled": len(self.cancelled),
            "nearing_target": len(self.nearing_target),
            "decided": self.decided,
        }


def batch_decision(
    *, current_quantity: int, target_quantity: int, window_closed: bool, nearing_marked: bool
) -> BatchDecision | None:
    """The decision table for one batch; None: leave it be."""

    def reaches(percent: int) -> bool:
        return fill_reaches(current_quantity=current_quantity, target_quantity=target_quantity, percent=percent)

    if reaches(settings.BATCH_CONFIRM_FILL_PERCENT):
        return BatchDecision.CONFIRM
    if window_closed:
        return BatchDecision.REVIEW if reaches(settings.BATCH_REVIEW_FILL_PERCENT) else BatchDecision.CANCEL
    if reaches(settings.BATCH_NEARING_FILL_PERCENT) and not nearing_marked:
        return BatchDecision.NEARING_TARGET
    return None


_DECISION_COLUMNS = ("id", "current_quantity", "target_quantity", "window_closes_at", "nearing_target_at")


def _decide_and_apply(rows, *, now: datetime) -> OrchestrationResult:
    """Sort locked rows by decision, then move each group with one set-based transition."""
    groups: dict[BatchDecision, list] = {decision: [] for decision in BatchDecision}
    for batch_id, current, target, window_closes_at, nearing_target_at in rows:
        decision = batch_decision(
            current_quantity=current,
            target_quantity=target,
            window_closed=window_closes_at <= now,
            nearing_marked=nearing_target_at is not None,
        )
        if decision:
            groups[decision].append(batch_id)
    return OrchestrationResult(
        confirmed=state.batches_confirm(batch_ids=groups[BatchDecision.CONFIRM], now=now),
        sent_to_review=state.batches_send_to_review(batch_ids=groups[BatchDecision.REVIEW], now=now),
        cancelled=state.batches_cancel(
            batch_ids=groups[BatchDecision.CANCEL],
            reason=f"Batch cancelled: below {settings.BATCH_REVIEW_FILL_PERCENT}% of its target when its window closed",
            now=now,
        ),
        nearing_target=state.batches_mark_nearing_target(batch_ids=groups[BatchDecision.NEARING_TARGET], now=now),
    )


def orchestration_sweep(*, now: datetime | None = None, chunk_size: int = SWEEP_CHUNK_SIZE) -> OrchestrationResult:
    """Decide every batch that needs attention, one chunk per transaction.

    Rows another sweep (or a single-batch orchestration) holds are skipped, not waited for: two
    beat processes split the due batches between them instead of queueing behind each other.
    """
    started = time.monotonic()
    now = now or timezone.now()
    total = OrchestrationResult()
    for selection in batches_due_for_orchestration(now=now):
        while True:
            with transaction.atomic(durable=True):
                rows = list(selection.select_for_update(skip_locked=True).values_list(*_DECISION_COLUMNS)[:chunk_size])
                result = _decide_and_apply(rows, now=now)
            total.add(result)
            # A short chunk was the selection's last; a chunk that decided nothing would be read forever.
            if len(rows) < chunk_size or result.decided == 0:
                break
    logger.info(
        "orchestration.sweep",
        extra={**total.counts(), "duration_ms": round((time.monotonic() - started) * 1000, 1)},
    )
    return total


@transaction.atomic(durable=True)
def orchestration_decide(*, batch_ids, now: datetime | None = None) -> OrchestrationResult:
    """Decide these open batches now (pooling just brought them to the confirm threshold).

    Waits for rows a sweep holds; by then the sweep may have decided them, and the
    ``batch_status='open'`` filter re-checked after the wait finds nothing left to do.
    Rows are locked in id order, the order every batch-row lock here takes.
    """
    now = now or timezone.now()
    rows = list(
        ProductionBatch.objects.filter(id__in=batch_ids, batch_status=ProductionBatch.Status.OPEN)
        .order_by("id")
        .select_for_update()
        .values_list(*_DECISION_COLUMNS)
    )
    result = _decide_and_apply(rows, now=now)
    if result.decided:
        logger.info("orchestration.batches_decided", extra={"batches": len(batch_ids), **result.counts()})
    return result
