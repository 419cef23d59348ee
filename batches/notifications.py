"""What the buyers of a batch's orders are told when the batch moves: one notification per order.

Called by the transitions in batches.state inside their transaction, with the batches they moved:
one query reads the orders (and what the message needs), one INSERT records the notifications.
"""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format

from orders.models import Notification, Order
from orders.notifications import NotificationDraft, notifications_record
from suppliers.models import SupplierOrder

Kind = Notification.Kind


def _order_label(order: Order) -> str:
    return f"{order.quantity} × {order.product_type} (order {str(order.id)[:8]})"


def _orders_of(batch_ids: Sequence, status: str):
    return Order.objects.filter(contribution__batch_id__in=list(batch_ids), workflow_status=status).select_related(
        "contribution__batch"
    )


def _when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "M j, Y H:i e")


def notify_batches_confirmed(batch_ids: Sequence) -> None:
    supplier_orders = {so.batch_id: so for so in SupplierOrder.objects.filter(batch_id__in=list(batch_ids))}
    drafts = []
    for order in _orders_of(batch_ids, Order.Status.CONFIRMED):
        placed = supplier_orders.get(order.contribution.batch_id)
        expected = f" Expected delivery: {placed.promised_date:%b %d, %Y}." if placed and placed.promised_date else ""
        drafts.append(
            NotificationDraft(
                user_id=order.buyer_id,
                order_id=order.id,
                kind=Kind.ORDER_CONFIRMED,
                event_key=Kind.ORDER_CONFIRMED,
                subject=f"Confirmed: {_order_label(order)}",
                body=f"Your order {_order_label(order)} is confirmed and in production "
                f"(supplier order {placed.order_number if placed else '—'}).{expected}",
            )
        )
    notifications_record(drafts)


def notify_batches_cancelled(batch_ids: Sequence, *, reason: str) -> None:
    drafts = []
    for order in _orders_of(batch_ids, Order.Status.REFUNDED):
        amount = order.total_price if order.total_price is not None else Decimal("0.00")
        drafts.append(
            NotificationDraft(
                user_id=order.buyer_id,
                order_id=order.id,
                kind=Kind.ORDER_REFUNDED,
                event_key=Kind.ORDER_REFUNDED,
                subject=f"Refunded {amount}: {_order_label(order)}",
                body=f"Your order {_order_label(order)} was refunded in full ({amount}): {reason}.",
            )
        )
    notifications_record(drafts)


def notify_batches_in_review(batch_ids: Sequence, *, now: datetime) -> None:
    drafts = []
    for order in _orders_of(batch_ids, Order.Status.POOLED):
        fill = Decimal(order.contribution.batch.fill_basis_points) / 100
        drafts.append(
            NotificationDraft(
                user_id=order.buyer_id,
                order_id=order.id,
                kind=Kind.BATCH_IN_REVIEW,
                # A batch can come back to review after an extension: each stay is its own event.
                event_key=f"{Kind.BATCH_IN_REVIEW}:{now.isoformat()}",
                subject=f"In review: {_order_label(order)}",
                body=f"The production batch of your order {_order_label(order)} closed at {fill:.2f}% of the "
                "supplier's minimum. Our operations team will confirm it, give it more time, or cancel and "
                "refund it; you will hear which.",
            )
        )
    notifications_record(drafts)


def notify_batches_extended(batch_ids: Sequence, *, hours: int, now: datetime) -> None:
    drafts = []
    for order in _orders_of(batch_ids, Order.Status.POOLED):
        closes = order.contribution.batch.window_closes_at
        drafts.append(
            NotificationDraft(
                user_id=order.buyer_id,
                order_id=order.id,
                kind=Kind.BATCH_EXTENDED,
                event_key=f"{Kind.BATCH_EXTENDED}:{now.isoformat()}",
                subject=f"More time to fill: {_order_label(order)}",
                body=f"The production batch of your order {_order_label(order)} has {hours} more hours to reach "
                f"the supplier's minimum, until {_when(closes)}.",
            )
        )
    notifications_record(drafts)


def notify_orders_rejected(orders: Sequence) -> None:
    """Orders pooling rejected (``order`` objects with ``buyer_id``, ``rejection_reason``)."""
    notifications_record(
        NotificationDraft(
            user_id=order.buyer_id,
            order_id=order.id,
            kind=Kind.ORDER_REJECTED,
            event_key=Kind.ORDER_REJECTED,
            subject=f"Rejected: {_order_label(order)}",
            body=f"Your order {_order_label(order)} could not be placed: {order.rejection_reason}",
        )
        for order in orders
    )
