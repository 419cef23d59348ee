"""What batches do when a lower app reports something (connected in BatchesConfig.ready)."""

from orders.models import Order
from orders.services import orders_mark_delivered


def batch_orders_delivered(*, supplier_order, now, **kwargs) -> None:
    """A batch's supplier order arrived: every order pooled into the batch is delivered."""
    if supplier_order.batch_id is not None:
        orders_mark_delivered(orders=Order.objects.filter(contribution__batch_id=supplier_order.batch_id), now=now)
