"""What must hold after every chaos scenario, and the summary it prints."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.invariants import INVARIANT_QUERIES
from tests.chaos.client import Answer
from tests.chaos.stack import progress

# The goal: no order waits longer than this once a fault has cleared.
MAX_WAIT_AFTER_FAULT_SECONDS = 15.0

DUPLICATE_QUERIES = {
    "no batch with two supplier orders": """
        SELECT count(*) FROM (SELECT batch_id FROM suppliers_supplierorder WHERE batch_id IS NOT NULL
                              GROUP BY batch_id HAVING count(*) > 1) twice""",
    "no direct order with two supplier orders": """
        SELECT count(*) FROM (SELECT buyer_order_id FROM suppliers_supplierorder WHERE buyer_order_id IS NOT NULL
                              GROUP BY buyer_order_id HAVING count(*) > 1) twice""",
    "no order with two refunds": """
        SELECT count(*) FROM (SELECT order_id FROM orders_refund GROUP BY order_id HAVING count(*) > 1) twice""",
    "no batch event recorded twice": """
        SELECT count(*) FROM (SELECT batch_id, kind, from_status, to_status FROM batches_batchevent
                              GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) twice""",
    "every refunded order has its refund": """
        SELECT count(*) FROM orders_order o LEFT JOIN orders_refund r ON r.order_id = o.id
        WHERE o.workflow_status = 'refunded' AND r.id IS NULL""",
    "every confirmed batch has its supplier order": """
        SELECT count(*) FROM batches_productionbatch b LEFT JOIN suppliers_supplierorder s ON s.batch_id = b.id
        WHERE b.batch_status = 'confirmed' AND s.id IS NULL""",
}


@dataclass
class Fault:
    name: str
    started: float
    cleared: float | None = None

    def __str__(self) -> str:
        if self.cleared is None:
            return self.name
        return f"{self.name} ({self.cleared - self.started:.1f}s)"


@dataclass
class Outcome:
    scenario: str
    figures: dict = field(default_factory=dict)
    violations: dict = field(default_factory=dict)

    def print_summary(self) -> None:
        progress(f"--- summary: {self.scenario}")
        for name, value in self.figures.items():
            progress(f"    {name:<34} {value}")
        for name, count in self.violations.items():
            progress(f"    {'FAIL' if count else 'ok  '} {name}" + (f" ({count})" if count else ""))

    @property
    def broken(self) -> dict:
        return {name: count for name, count in self.violations.items() if count}


def wait_until_nothing_submitted(db, *, timeout: float) -> float:
    """Seconds until no order is ``submitted`` (raises TimeoutError with the count left)."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        left = db.execute("SELECT count(*) FROM orders_order WHERE workflow_status = 'submitted'").fetchone()[0]
        if left == 0:
            return time.monotonic() - started
        if time.monotonic() > deadline:
            raise TimeoutError(f"{left} orders still submitted after {timeout:.0f}s")
        time.sleep(0.25)


def evaluate(
    db, scenario: str, answers: list[Answer], faults: list[Fault], *, started: float, mail_dir: Path, **extra
) -> Outcome:
    """Check every invariant of the issue against the database and the client's record."""
    outcome = Outcome(scenario)
    violations = outcome.violations
    statuses = Counter(a.status for a in answers)

    accepted_ids = [order_id for a in answers if a.accepted for order_id in a.order_ids]
    found = {
        row[0] for row in db.execute("SELECT id::text FROM orders_order WHERE id = ANY(%s::uuid[])", [accepted_ids])
    }
    violations["no accepted order missing"] = len(set(accepted_ids) - found)

    refused = [a.request_id for a in answers if a.status is not None and not a.accepted]
    unanswered = [a.request_id for a in answers if a.status is None]
    stored = dict(
        db.execute(
            "SELECT correlation_id, count(*) FROM orders_order WHERE correlation_id = ANY(%s) GROUP BY 1",
            [refused + unanswered],
        ).fetchall()
    )
    violations["no stored order answered with an error"] = sum(stored.get(rid, 0) for rid in refused)
    violations["no stored order left without an answer"] = sum(stored.get(rid, 0) for rid in unanswered)
    violations["no 5xx but 503, every error JSON"] = sum(
        1 for a in answers if a.status is not None and ((a.status >= 500 and a.status != 503) or not a.json_body)
    )
    violations["every 503 says when to retry"] = sum(1 for a in answers if a.status == 503 and not a.retry_after)

    by_key: dict[str, list[str]] = {}
    bulk_size: dict[str, int] = {}
    for a in answers:
        if a.kind == "bulk":
            by_key.setdefault(a.idempotency_key, []).append(a.request_id)
            bulk_size[a.idempotency_key] = len(a.body["orders"])
    bulk_rows = dict(
        db.execute(
            "SELECT correlation_id, count(*) FROM orders_order WHERE correlation_id = ANY(%s) GROUP BY 1",
            [[rid for rids in by_key.values() for rid in rids]],
        ).fetchall()
    )
    accepted_keys = {a.idempotency_key for a in answers if a.kind == "bulk" and a.accepted}
    violations["every bulk stored once, whole, or not at all"] = sum(
        1
        for key, rids in by_key.items()
        if sum(bulk_rows.get(rid, 0) for rid in rids) != (bulk_size[key] if key in accepted_keys else 0)
    )

    for name, query in {**INVARIANT_QUERIES, **DUPLICATE_QUERIES}.items():
        violations[name] = db.execute(query).fetchone()[0]

    last_clear = max((f.cleared for f in faults if f.cleared), default=None)
    waits = db.execute(
        """SELECT coalesce(max(greatest(0, extract(epoch FROM pooled_at - greatest(created_at, to_timestamp(%s))))), 0),
                  coalesce(max(extract(epoch FROM pooled_at - created_at)), 0)
           FROM orders_order WHERE pooled_at IS NOT NULL""",
        [last_clear or 0],
    ).fetchone()
    worst_after_clear = float(waits[0]) if last_clear else float(waits[1])
    violations[f"no order waited > {MAX_WAIT_AFTER_FAULT_SECONDS:.0f}s after the fault cleared"] = int(
        worst_after_clear > MAX_WAIT_AFTER_FAULT_SECONDS
    )
    jobs = dict(
        db.execute(
            "SELECT status, count(*) FROM analytics_jobrun WHERE finished_at >= to_timestamp(%s) GROUP BY 1",
            [started],
        ).fetchall()
    )
    mails = [p for p in mail_dir.glob("*") if p.stat().st_mtime >= started] if mail_dir.exists() else []

    orders = db.execute("SELECT workflow_status, count(*) FROM orders_order GROUP BY 1 ORDER BY 1").fetchall()
    batches = db.execute("SELECT batch_status, count(*) FROM batches_productionbatch GROUP BY 1 ORDER BY 1").fetchall()
    outcome.figures.update(
        {
            "requests (single / bulk)": f"{sum(a.kind == 'order' for a in answers)} / "
            f"{sum(a.kind == 'bulk' for a in answers)}",
            "answers by status": dict(sorted((str(k), v) for k, v in statuses.items())),
            "client-visible errors": sum(1 for a in answers if not a.accepted),
            "orders stored, by status": dict(orders),
            "batches, by status": dict(batches),
            "faults": ", ".join(str(f) for f in faults) or "none",
            "task retries seen": jobs.get("retrying", 0),
            "failed jobs / staff mails": f"{jobs.get('failed', 0)} / {len(mails)}",
            "worst wait after fault cleared (s)": round(worst_after_clear, 1),
            "worst submit→pooled overall (s)": round(float(waits[1]), 1),
            **extra,
        }
    )
    outcome.print_summary()
    return outcome
