"""What became of the bench's orders: waiting until pooling is done, and submit → pooled figures."""

from __future__ import annotations

import time
from datetime import datetime

from bench.results import per_second


def wait_for_pooling(ctx, total: int, started: float, timeout: float) -> float | None:
    """Poll until no order is left submitted; the monotonic finish time, or None on timeout."""
    from django.db import connection

    last_report = started
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM orders_order WHERE workflow_status = 'submitted'")
            left = cursor.fetchone()[0]
        now = time.monotonic()
        if left == 0:
            return now
        if now - started > timeout:
            return None
        if now - last_report >= 2:
            done = total - left
            ctx.progress(f"{done:,}/{total:,} out of submitted, {per_second(done, now - started) or 0:,.0f}/s")
            last_report = now
        time.sleep(0.1)


def pooling_outcome(since: datetime) -> dict:
    """Counts and submit → pooled percentiles (ms) of the orders created since ``since``."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH bench AS (
                SELECT *, is_batch_order AND workflow_status <> 'rejected' AND pooled_at IS NOT NULL AS into_batch
                FROM orders_order WHERE created_at >= %s
            )
            SELECT count(*) FILTER (WHERE into_batch),
                   count(*) FILTER (WHERE NOT is_batch_order AND workflow_status <> 'rejected'),
                   count(*) FILTER (WHERE workflow_status = 'rejected'),
                   count(*) FILTER (WHERE workflow_status = 'submitted'),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM pooled_at - created_at))
                       FILTER (WHERE into_batch),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM pooled_at - created_at))
                       FILTER (WHERE into_batch),
                   max(pooled_at)
            FROM bench
            """,
            [since],
        )
        pooled, direct, rejected, submitted, p50, p95, last_pooled = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM batches_productionbatch")
        batches = cursor.fetchone()[0]
    return {
        "pooled_orders": pooled,
        "direct_orders": direct,
        "rejected_orders": rejected,
        "left_submitted": submitted,
        "p50_ms": round(float(p50) * 1000, 1) if p50 is not None else None,
        "p95_ms": round(float(p95) * 1000, 1) if p95 is not None else None,
        "batches": batches,
        "last_pooled_at": last_pooled,
    }
