"""What orders do when a lower app reports something (connected in OrdersConfig.ready)."""

from orders.models import Order
from orders.services import orders_mark_delivered


def direct_order_delivered(*, supplier_order, now, **kwargs) -> None:
    """A direct order's own supplier order arrived: the buyer's order is delivered."""
    if supplier_order.buyer_order_id is not None:
        orders_mark_delivered(orders=Order.objects.filter(id=supplier_order.buyer_order_id), now=now)
