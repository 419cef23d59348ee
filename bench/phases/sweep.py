"""sweep — orchestration sweep with many open batches: once with many due, then with none due.

Seeds ``--sweep-open-batches`` open batches with set-based SQL (``generate_series``),
``--sweep-due`` of them needing a decision (a third confirm-due, a third review-due, a third
cancel-due, each with two pooled orders and their contributions), times one full sweep and
then sweeps with none due, checks the sweep's side effects, and removes everything it created.
Runs on emptied tables, so the sweep sees only its own batches.
"""

from __future__ import annotations

import statistics
import time
import uuid

NAME = "sweep"
GOALS = (
    ("sweep_due_seconds", "<", 5),
    ("sweep_idle_ms", "<", 100),
)
TABLE_ROWS = (
    ("sweep_open_batches", "sweep: open batches", ""),
    ("sweep_due", "sweep: of them due", ""),
    ("sweep_due_seconds", "sweep with those due", "s"),
    ("sweep_idle_ms", "sweep with none due", "ms"),
    ("sweep_batches_decided", "batches decided by the sweep", ""),
    ("sweep_consistent", "sweep side effects", ""),
)
IDLE_RUNS = 5


def add_arguments(parser) -> None:
    parser.add_argument("--sweep-open-batches", type=int, default=100_000, help="open batches (default 100,000)")
    parser.add_argument("--sweep-due", type=int, default=10_000, help="of them due a decision (default 10,000)")


def check_arguments(args, parser) -> None:
    if not 0 <= args.sweep_due <= args.sweep_open_batches:
        parser.error("--sweep-due must be between 0 and --sweep-open-batches")


def run(ctx) -> dict:
    ctx.reset_bench_data()  # the sweep must see only its own batches
    ctx.progress(f"{ctx.args.sweep_open_batches:,} open batches, {ctx.args.sweep_due:,} due")
    figures = measure(open_batches=ctx.args.sweep_open_batches, due=ctx.args.sweep_due)
    if figures.get("sweep_consistent") is False:
        ctx.fail(f"sweep side effects: {', '.join(figures.get('sweep_problems', []))}")
    return figures


def measure(*, open_batches: int = 100_000, due: int = 10_000) -> dict:
    from django.db import connection

    from batches.orchestration import orchestration_sweep

    if connection.vendor != "postgresql":
        raise SystemExit("bench sweep: needs PostgreSQL (set DATABASE_URL=postgres://…)")
    if not 0 <= due <= open_batches:
        raise ValueError("due must be between 0 and open_batches")

    tag = f"bench-sweep-{uuid.uuid4().hex[:8]}"
    refs = _create_references(tag)
    try:
        seed_started = time.monotonic()
        _seed(tag=tag, refs=refs, open_batches=open_batches, due=due)
        seed_seconds = time.monotonic() - seed_started

        started = time.monotonic()
        result = orchestration_sweep()
        sweep_due_seconds = time.monotonic() - started

        idle = []
        for _ in range(IDLE_RUNS):
            started = time.monotonic()
            idle_result = orchestration_sweep()
            idle.append((time.monotonic() - started) * 1000)
            if idle_result.decided:
                raise SystemExit(f"bench sweep: a sweep after the first still decided {idle_result.decided} batches")

        checks = _check(tag=tag, due=due)
    finally:
        _clean_up(tag=tag, refs=refs)

    return {
        "sweep_due_seconds": round(sweep_due_seconds, 3),
        "sweep_idle_ms": round(statistics.median(idle), 2),
        "sweep_idle_ms_first": round(idle[0], 2),
        "sweep_batches_decided": result.decided,
        "sweep_open_batches": open_batches,
        "sweep_due": due,
        "sweep_seed_seconds": round(seed_seconds, 2),
        **checks,
    }


def _create_references(tag: str) -> dict:
    from django.contrib.auth import get_user_model

    from suppliers.models import Supplier, SupplierOffer

    supplier = Supplier.objects.create(name=f"Bench sweep {tag}", code=tag)
    offer = SupplierOffer.objects.create(
        supplier=supplier,
        product_type=tag,
        moq=100,
        price_tiers=[{"min_quantity": 1, "unit_price": "10.00"}],
    )
    buyer = get_user_model().objects.create(username=tag)
    return {"supplier": supplier.id, "offer": offer.id, "buyer": buyer.id}


def _seed(*, tag: str, refs: dict, open_batches: int, due: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from batches.models import BatchContribution, ProductionBatch
    from bench.seeding import insert_select
    from orders.models import Order
    from sleekbatch import sql

    params = {"tag": tag, "now": timezone.now(), **refs, "quiet": open_batches - due, "due": due}
    batch_columns = {
        "product_type": "%(tag)s",
        "supplier_id": "%(supplier)s",
        "offer_id": "%(offer)s",
        "batch_status": "'open'",
        "target_quantity": "100",
        "styles": "'[]'::jsonb",
        "max_styles": "3",
        "supplier_unit_price": "10.00",
        "created_at": "%(now)s",
        "updated_at": "%(now)s",
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # Batches needing nothing: window open, below 60%, or 60–74% with the nearing event
        # already written (one in ten), as a platform's open batches mostly are.
        insert_select(
            cursor,
            ProductionBatch,
            {
                **batch_columns,
                "id": "gen_random_uuid()",
                "current_quantity": "CASE WHEN mod(g, 10) = 0 THEN 60 + mod(g, 15) ELSE mod(g, 60) END",
                "window_closes_at": "%(now)s + (1 + mod(g, 72)) * interval '1 hour'",
                "nearing_target_at": "CASE WHEN mod(g, 10) = 0 THEN %(now)s END",
            },
            "FROM generate_series(1, %(quiet)s) AS g",
            params,
        )
        # Due batches: confirm-due (75–100%, window open or closed), review-due (50–74%, closed),
        # cancel-due (2–49%, closed).
        cursor.execute(
            """
            CREATE TEMP TABLE bench_sweep_due ON COMMIT DROP AS
            SELECT gen_random_uuid() AS id,
                   CASE mod(g, 3) WHEN 0 THEN 75 + mod(g, 26)
                                  WHEN 1 THEN 50 + mod(g, 25)
                                  ELSE 2 + mod(g, 48) END AS current,
                   CASE WHEN mod(g, 6) = 0 THEN %(now)s + interval '1 hour'
                        ELSE %(now)s - interval '1 minute' END AS window_closes_at
            FROM generate_series(1, %(due)s) AS g
            """,
            params,
        )
        insert_select(
            cursor,
            ProductionBatch,
            {
                **batch_columns,
                "id": "d.id",
                "current_quantity": "d.current",
                "window_closes_at": "d.window_closes_at",
                "nearing_target_at": "NULL",
            },
            "FROM bench_sweep_due AS d",
            params,
        )
        cursor.execute(
            """
            CREATE TEMP TABLE bench_sweep_orders ON COMMIT DROP AS
            SELECT gen_random_uuid() AS id, d.id AS batch_id,
                   CASE k WHEN 1 THEN d.current / 2 ELSE d.current - d.current / 2 END AS quantity
            FROM bench_sweep_due AS d, generate_series(1, 2) AS k
            """
        )
        insert_select(
            cursor,
            Order,
            {
                "id": "o.id",
                "buyer_id": "%(buyer)s",
                "product_type": "%(tag)s",
                "quantity": "o.quantity",
                "style_details": "'[]'::jsonb",
                "unit_price": "11.50",
                "total_price": "11.50 * o.quantity",
                "workflow_status": "'pooled'",
                "idempotency_key": "NULL",
                "created_at": "%(now)s",
                "updated_at": "%(now)s",
                "pooled_at": "%(now)s",
            },
            "FROM bench_sweep_orders AS o",
            params,
        )
        insert_select(
            cursor,
            BatchContribution,
            {
                "batch_id": "o.batch_id",
                "order_id": "o.id",
                "quantity_contributed": "o.quantity",
                "style_details": "'[]'::jsonb",
                "unit_price": "11.50",
                "committed_at": "%(now)s",
            },
            "FROM bench_sweep_orders AS o",
            params,
        )
    # Fresh statistics, as autovacuum would have them on a live system; without them the
    # planner guesses the new rows' distribution.
    sql.analyze(ProductionBatch, BatchContribution, Order)


def _check(*, tag: str, due: int) -> dict:
    """The sweep's side effects on the seeded batches, as figures (the bench's invariants read them)."""
    from batches.models import ProductionBatch
    from orders.models import Order, Refund
    from suppliers.models import SupplierOrder

    batches = ProductionBatch.objects.filter(product_type=tag)
    confirmed = batches.filter(batch_status=ProductionBatch.Status.CONFIRMED).count()
    cancelled = batches.filter(batch_status=ProductionBatch.Status.CANCELLED).count()
    checks = {
        "sweep_confirmed": confirmed,
        "sweep_sent_to_review": batches.filter(batch_status=ProductionBatch.Status.ADMIN_REVIEW).count(),
        "sweep_cancelled": cancelled,
        "sweep_supplier_orders": SupplierOrder.objects.filter(batch__product_type=tag).count(),
        "sweep_refunds": Refund.objects.filter(order__product_type=tag).count(),
        "sweep_orders_still_pooled_in_decided": Order.objects.filter(
            product_type=tag,
            workflow_status=Order.Status.POOLED,
            contribution__batch__batch_status__in=[ProductionBatch.Status.CONFIRMED, ProductionBatch.Status.CANCELLED],
        ).count(),
    }
    problems = []
    if checks["sweep_supplier_orders"] != confirmed:
        problems.append("supplier orders ≠ confirmed batches")
    if checks["sweep_refunds"] != 2 * cancelled:
        problems.append("refunds ≠ orders of cancelled batches")
    if confirmed + checks["sweep_sent_to_review"] + cancelled != due:
        problems.append("decided batches ≠ due batches")
    if checks["sweep_orders_still_pooled_in_decided"]:
        problems.append("orders of decided batches still pooled")
    checks["sweep_consistent"] = not problems
    if problems:
        checks["sweep_problems"] = problems
    return checks


def _clean_up(*, tag: str, refs: dict) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from batches.models import BatchContribution, BatchEvent, ProductionBatch
    from orders.models import Notification, Order, Refund
    from sleekbatch import sql
    from suppliers.models import Supplier, SupplierOffer, SupplierOrder

    batches = ProductionBatch.objects.filter(product_type=tag)
    orders = Order.objects.filter(product_type=tag)
    # Referencing rows first; one DELETE each, nothing loaded into Python.
    deletions = [
        BatchEvent.objects.filter(batch__in=batches.values("id")),
        SupplierOrder.objects.filter(supplier_id=refs["supplier"]),
        Refund.objects.filter(order__in=orders.values("id")),
        BatchContribution.objects.filter(batch__in=batches.values("id")),
        Notification.objects.filter(order__in=orders.values("id")),
        orders,
        batches,
        SupplierOffer.objects.filter(id=refs["offer"]),
        Supplier.objects.filter(id=refs["supplier"]),
        get_user_model().objects.filter(id=refs["buyer"]),
    ]
    with transaction.atomic():
        for queryset in deletions:
            sql.delete_where(queryset)
