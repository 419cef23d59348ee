"""Pooling invariants checked after a run: a fast but wrong result never passes as a good one."""

from __future__ import annotations

# Each query returns the number of violations; 0 means the invariant holds.
INVARIANT_QUERIES = {
    "no order left submitted": "SELECT count(*) FROM orders_order WHERE workflow_status = 'submitted'",
    "batch current_quantity = sum of its contributions": """
        SELECT count(*) FROM batches_productionbatch b
        LEFT JOIN (SELECT batch_id, sum(quantity_contributed) AS total
                   FROM batches_batchcontribution GROUP BY batch_id) c ON c.batch_id = b.id
        WHERE b.current_quantity <> coalesce(c.total, 0)""",
    "batch current_quantity <= target_quantity": (
        "SELECT count(*) FROM batches_productionbatch WHERE current_quantity > target_quantity"
    ),
    "no order with two contributions": """
        SELECT count(*) FROM (SELECT order_id FROM batches_batchcontribution
                              GROUP BY order_id HAVING count(*) > 1) twice""",
    "every pooled batch order has one contribution of its whole quantity": """
        SELECT count(*) FROM orders_order o
        LEFT JOIN batches_batchcontribution c ON c.order_id = o.id
        WHERE o.is_batch_order AND o.workflow_status IN ('pooled', 'confirmed', 'refunded')
          AND (c.id IS NULL OR c.quantity_contributed <> o.quantity)""",
    "contributions match their batch's product type": """
        SELECT count(*) FROM batches_batchcontribution c
        JOIN orders_order o ON o.id = c.order_id
        JOIN batches_productionbatch b ON b.id = c.batch_id
        WHERE o.product_type <> b.product_type""",
    "batch styles within max_styles": (
        "SELECT count(*) FROM batches_productionbatch WHERE jsonb_array_length(styles) > max_styles"
    ),
    "every direct order has its supplier order": """
        SELECT count(*) FROM orders_order o
        LEFT JOIN suppliers_supplierorder s ON s.buyer_order_id = o.id
        WHERE NOT o.is_batch_order AND o.workflow_status <> 'rejected' AND s.id IS NULL""",
}


def check_invariants() -> dict[str, int]:
    """Invariant name → number of violations in the database now."""
    from django.db import connection

    violations = {}
    with connection.cursor() as cursor:
        for name, query in INVARIANT_QUERIES.items():
            cursor.execute(query)
            violations[name] = cursor.fetchone()[0]
    return violations


def report_invariants(ctx, violations: dict[str, int]) -> bool:
    """One progress line per invariant; ctx.fail() for each broken one. True if all hold."""
    for name, count in violations.items():
        if count:
            ctx.fail(f"{name} ({count} violations)")
        else:
            ctx.progress(f"PASS {name}")
    return all(count == 0 for count in violations.values())
