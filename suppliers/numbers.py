"""Supplier order numbers: human-readable, unique, sortable by time."""

import secrets

from django.utils import timezone


def new_supplier_order_number(prefix: str = "SO") -> str:
    # Date + 10 random base32 chars: ~10^15 per day, so a collision (caught by the
    # unique constraint) is not a practical concern.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    suffix = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{prefix}-{timezone.now():%Y%m%d}-{suffix}"
