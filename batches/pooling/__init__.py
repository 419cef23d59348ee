"""Order pooling (DESIGN.md "Order pooling"): claim submitted orders in chunks, pool them into batches.

- ``claim``   — the service: one transaction takes up to ``CLAIM_CHUNK`` of the oldest
  submitted orders (FOR UPDATE SKIP LOCKED), takes the per-product-type locks, decides
  and writes; ``orders_drain_submitted`` loops claims within a time budget.
- ``routing`` — the decisions in memory: compatibility, the fullest fitting batch, direct
  and rejected orders, prices.
- ``writes``  — the decisions stored in bulk: each batch row updated once per claim.
"""

from batches.pooling.claim import (
    CLAIM_CHUNK,
    DrainResult,
    orders_drain_submitted,
    orders_pool_submitted,
    submitted_orders_waiting,
)

__all__ = ["CLAIM_CHUNK", "DrainResult", "orders_drain_submitted", "orders_pool_submitted", "submitted_orders_waiting"]
