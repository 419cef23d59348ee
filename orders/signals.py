"""Signals the orders app sends. Apps above it (batches: pooling) connect in their AppConfig.ready()."""

from django.dispatch import Signal

# Sent once per committed transaction that stored submitted orders (one POST, or a whole bulk),
# after the commit, so a receiver that starts work elsewhere finds the orders there.
orders_submitted = Signal(use_caching=True)
