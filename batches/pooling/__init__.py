"""Order pooling: claim submitted orders in chunks and pool them into batches (docs/pooling.md).

- ``tasks``   — the drain and recovery tasks, and the trigger intake reaches by signal;
- ``claim``   — one transaction takes up to ``CLAIM_CHUNK`` of the oldest submitted orders,
  locks, decides and writes; ``pooling_drain`` loops claims within a time budget;
- ``routing`` — the decisions in memory; ``writes`` — the decisions stored in bulk.
"""

from batches.pooling.claim import CLAIM_CHUNK, DrainResult, pooling_claim, pooling_drain

__all__ = ["CLAIM_CHUNK", "DrainResult", "pooling_claim", "pooling_drain"]
