"""Signals suppliers send to the apps above them (which may not be imported from here)."""

from django.dispatch import Signal

# Sent inside the delivering transaction with ``supplier_order`` (a SupplierOrder) and ``now``:
# the buyer orders it was made for follow it to ``delivered`` in the same transaction.
supplier_order_delivered = Signal()
