"""Reads for suppliers: which supplier a user acts for."""

from suppliers.models import SupplierMembership


def supplier_id_for_user(user) -> int | None:
    """The supplier a supplier user belongs to, or None (no membership, anonymous)."""
    if not user or not user.is_authenticated:
        return None
    return SupplierMembership.objects.filter(user_id=user.pk).values_list("supplier_id", flat=True).first()
