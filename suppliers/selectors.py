"""Reads for suppliers: which supplier a user acts for, and the supplier orders a user may see."""

from django.db.models import QuerySet

from sleekbatch.roles import OPS, SUPPLIER, has_role
from suppliers.models import Supplier, SupplierMembership, SupplierOrder


def supplier_id_for_user(user) -> int | None:
    """The supplier a supplier user belongs to, or None (no membership, anonymous)."""
    if not user or not user.is_authenticated:
        return None
    return SupplierMembership.objects.filter(user_id=user.pk).values_list("supplier_id", flat=True).first()


def suppliers_visible_to(user) -> QuerySet[Supplier]:
    """Every supplier for ops; a supplier user's own supplier; nothing for anyone else."""
    if has_role(user, OPS):
        return Supplier.objects.all()
    if has_role(user, SUPPLIER):
        return Supplier.objects.filter(memberships__user_id=user.pk)
    return Supplier.objects.none()


def supplier_orders_visible_to(user) -> QuerySet[SupplierOrder]:
    """Every supplier order for ops; a supplier user's own supplier's; nothing for anyone else."""
    queryset = SupplierOrder.objects.select_related("supplier")
    if has_role(user, OPS):
        return queryset
    if has_role(user, SUPPLIER):
        return queryset.filter(supplier__memberships__user_id=user.pk)
    return queryset.none()
