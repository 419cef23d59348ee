"""The supplier order state machine: every transition of a ``SupplierOrder`` lives here.

    placed ──► acknowledged ──► shipped ──► delivered
    placed | acknowledged ──► cancelled (ops)

Each transition checks the data (``SupplierOrderInvalid``: a 400 that stores nothing), then
compare-and-sets the status (``UPDATE … WHERE id = … AND status = <from>``) and writes a
``SupplierOrderEvent`` in the same transaction (a move by ops also writes an audit entry with
the same correlation id: the event is the history its supplier sees, the entry the staff trail).
A row that is not in the status the move starts from is ``SupplierOrderConflict`` (a 409 naming
the current status). The API and the admin call these functions and nothing else.
"""

import copy
import functools
import logging
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sleekbatch.audit import Action, audit_diff, audit_record
from sleekbatch.correlation import get_correlation_id
from sleekbatch.roles import OPS, has_role
from suppliers.models import SupplierOrder, SupplierOrderEvent
from suppliers.signals import supplier_order_delivered
from suppliers.tasks import score_supplier

logger = logging.getLogger(__name__)

Status = SupplierOrder.Status

SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86400


class SupplierOrderConflict(Exception):
    """The move does not start from the supplier order's current status."""

    def __init__(self, supplier_order_id, current_status: str | None, action: str):
        self.supplier_order_id = supplier_order_id
        self.current_status = current_status
        if current_status is None:
            message = f"Supplier order {supplier_order_id} does not exist."
        else:
            message = f"Cannot {action} a supplier order that is {current_status}; nothing was changed."
        super().__init__(message)


class SupplierOrderInvalid(Exception):
    """The data given for a move is impossible; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))


@dataclass(frozen=True)
class Delivery:
    delivered_units: int
    defective_units: int
    delivered_at: datetime


def delivery_errors(*, supplier_order: SupplierOrder, delivery: Delivery, now: datetime) -> dict[str, list[str]]:
    """What is impossible about ``delivery`` for this supplier order (empty: nothing)."""
    errors: dict[str, list[str]] = {}
    if delivery.delivered_units < 0:
        errors["delivered_units"] = ["Must not be negative."]
    if delivery.defective_units < 0:
        errors["defective_units"] = ["Must not be negative."]
    elif delivery.defective_units > max(delivery.delivered_units, 0):
        errors["defective_units"] = ["Cannot exceed the delivered units."]
    if delivery.delivered_at < supplier_order.created_at:
        errors["delivered_at"] = ["Cannot be before the supplier order was placed."]
    elif delivery.delivered_at > now:
        errors["delivered_at"] = ["Cannot be in the future."]
    if "delivered_units" not in errors:
        tolerance = settings.SUPPLIER_DELIVERY_TOLERANCE_PERCENT
        off_by = abs(delivery.delivered_units - supplier_order.quantity)
        if off_by * 100 > supplier_order.quantity * tolerance:
            errors["delivered_units"] = [
                f"{delivery.delivered_units} is more than {tolerance}% away from the ordered "
                f"{supplier_order.quantity}; check the figure."
            ]
    return errors


def days_late(*, delivered_at: datetime, promised_date: date | None) -> int | None:
    """Days between the promised date and the (local) delivery date; ≤ 0 is on time."""
    if promised_date is None:
        return None
    return (timezone.localdate(delivered_at) - promised_date).days


def _hours_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / SECONDS_PER_HOUR


def _load(supplier_order_id, *, action: str, expected: tuple[str, ...]) -> SupplierOrder:
    supplier_order = SupplierOrder.objects.filter(id=supplier_order_id).first()
    if supplier_order is None or supplier_order.status not in expected:
        raise SupplierOrderConflict(supplier_order_id, supplier_order and supplier_order.status, action)
    return supplier_order


def _move(supplier_order: SupplierOrder, *, action: str, to_status: str, changes: dict, actor, now, details=None):
    """The compare-and-set and its event; raises ``SupplierOrderConflict`` when another move won."""
    from_status = supplier_order.status
    moved = SupplierOrder.objects.filter(id=supplier_order.id, status=from_status).update(status=to_status, **changes)
    if not moved:
        current = SupplierOrder.objects.filter(id=supplier_order.id).values_list("status", flat=True).first()
        raise SupplierOrderConflict(supplier_order.id, current, action)
    SupplierOrderEvent.objects.create(
        supplier_order_id=supplier_order.id,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        correlation_id=get_correlation_id(),
        details=details or {},
        created_at=now,
    )
    logger.info(
        "supplier_order.moved",
        extra={"supplier_order_id": str(supplier_order.id), "from_status": from_status, "to_status": to_status},
    )
    before = copy.copy(supplier_order)
    supplier_order.refresh_from_db()
    if has_role(actor, OPS):
        changed_before, changed_after = audit_diff(before, supplier_order)
        audit_record(
            actor=actor, action=_AUDIT_ACTIONS[action], obj=supplier_order, before=changed_before, after=changed_after
        )
    return supplier_order


_AUDIT_ACTIONS = {
    "acknowledge": Action.SUPPLIER_ORDER_ACKNOWLEDGE,
    "ship": Action.SUPPLIER_ORDER_SHIP,
    "deliver": Action.SUPPLIER_ORDER_DELIVER,
    "cancel": Action.SUPPLIER_ORDER_CANCEL,
}


@transaction.atomic(durable=True)
def supplier_order_acknowledge(
    *, supplier_order_id, actor, promised_date: date | None = None, now: datetime | None = None
) -> SupplierOrder:
    """The supplier accepts the order and commits to a delivery date (required if none is set yet)."""
    now = now or timezone.now()
    supplier_order = _load(supplier_order_id, action="acknowledge", expected=(Status.PLACED,))
    promised = supplier_order.promised_date
    if promised_date is not None and promised is not None and promised_date != promised:
        raise SupplierOrderInvalid({"promised_date": [f"Already promised for {promised.isoformat()}."]})
    promised = promised or promised_date
    if promised is None:
        raise SupplierOrderInvalid({"promised_date": ["Required: this supplier order has no promised date yet."]})
    if promised < timezone.localdate(supplier_order.created_at):
        raise SupplierOrderInvalid({"promised_date": ["Cannot be before the supplier order was placed."]})
    return _move(
        supplier_order,
        action="acknowledge",
        to_status=Status.ACKNOWLEDGED,
        changes={
            "acknowledged_at": now,
            "promised_date": promised,
            "acknowledge_hours": _hours_between(supplier_order.created_at, now),
        },
        actor=actor,
        now=now,
    )


@transaction.atomic(durable=True)
def supplier_order_ship(*, supplier_order_id, actor, now: datetime | None = None) -> SupplierOrder:
    """The goods left the supplier."""
    now = now or timezone.now()
    supplier_order = _load(supplier_order_id, action="ship", expected=(Status.ACKNOWLEDGED,))
    return _move(
        supplier_order, action="ship", to_status=Status.SHIPPED, changes={"shipped_at": now}, actor=actor, now=now
    )


@transaction.atomic(durable=True)
def supplier_order_deliver(
    *, supplier_order_id, actor, delivery: Delivery, now: datetime | None = None
) -> SupplierOrder:
    """The goods arrived: record what came, move the buyer orders to ``delivered``, rescore the supplier."""
    now = now or timezone.now()
    supplier_order = _load(supplier_order_id, action="deliver", expected=(Status.SHIPPED,))
    errors = delivery_errors(supplier_order=supplier_order, delivery=delivery, now=now)
    if errors:
        raise SupplierOrderInvalid(errors)
    supplier_order = _move(
        supplier_order,
        action="deliver",
        to_status=Status.DELIVERED,
        changes={
            "delivered_at": delivery.delivered_at,
            "delivered_units": delivery.delivered_units,
            "defective_units": delivery.defective_units,
            "lead_time_days": (delivery.delivered_at - supplier_order.created_at).total_seconds() / SECONDS_PER_DAY,
            "days_late": days_late(delivered_at=delivery.delivered_at, promised_date=supplier_order.promised_date),
        },
        actor=actor,
        now=now,
        details={"delivered_units": delivery.delivered_units, "defective_units": delivery.defective_units},
    )
    supplier_order_delivered.send(sender=SupplierOrder, supplier_order=supplier_order, now=now)
    transaction.on_commit(functools.partial(score_supplier.delay, supplier_order.supplier_id))
    return supplier_order


@transaction.atomic(durable=True)
def supplier_order_cancel(*, supplier_order_id, actor, reason: str = "", now: datetime | None = None) -> SupplierOrder:
    """Ops call off an order the supplier has not shipped."""
    now = now or timezone.now()
    supplier_order = _load(supplier_order_id, action="cancel", expected=(Status.PLACED, Status.ACKNOWLEDGED))
    return _move(
        supplier_order,
        action="cancel",
        to_status=Status.CANCELLED,
        changes={"cancelled_at": now},
        actor=actor,
        now=now,
        details={"reason": reason} if reason else None,
    )
