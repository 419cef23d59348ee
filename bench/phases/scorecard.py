"""scorecard — the nightly scoring run: every supplier's scorecard, snapshot and alerts at once.

Seeds ``--scorecard-suppliers`` suppliers and ``--scorecard-supplier-orders`` delivered supplier
orders (each with its direct buyer order) spread over the 90-day window with set-based SQL, times
one ``suppliers_score()`` over all of them, reruns it (the day's snapshots must be replaced, not
added) and times one supplier's rescoring (what each delivery triggers). Removes what it created.
"""

from __future__ import annotations

import time
import uuid

NAME = "scorecard"
GOALS = (("scorecard_seconds", "<", 10),)
TABLE_ROWS = (
    ("scorecard_suppliers", "scorecard: suppliers", ""),
    ("scorecard_supplier_orders", "scorecard: supplier orders delivered in the window", ""),
    ("scorecard_seconds", "scoring every supplier", "s"),
    ("scorecard_one_supplier_ms", "rescoring one supplier (on delivery)", "ms"),
    ("scorecard_consistent", "scorecard snapshots and scores", ""),
)


def add_arguments(parser) -> None:
    parser.add_argument("--scorecard-suppliers", type=int, default=10_000, help="suppliers (default 10,000)")
    parser.add_argument(
        "--scorecard-supplier-orders", type=int, default=2_000_000, help="delivered supplier orders (default 2,000,000)"
    )


def check_arguments(args, parser) -> None:
    if args.scorecard_suppliers < 1 or args.scorecard_supplier_orders < 0:
        parser.error("--scorecard-suppliers must be positive and --scorecard-supplier-orders not negative")


def run(ctx) -> dict:
    ctx.reset_bench_data()  # empties the order and supplier-order tables
    suppliers, orders = ctx.args.scorecard_suppliers, ctx.args.scorecard_supplier_orders
    ctx.progress(f"seeding {suppliers:,} suppliers and {orders:,} delivered supplier orders")
    figures = measure(suppliers=suppliers, supplier_orders=orders, progress=ctx.progress)
    if not figures["scorecard_consistent"]:
        ctx.fail(f"scorecard: {', '.join(figures.get('scorecard_problems', []))}")
    return figures


def measure(*, suppliers: int, supplier_orders: int, progress=print) -> dict:
    from django.db import connection

    from suppliers.scorecard import suppliers_score

    if connection.vendor != "postgresql":
        raise SystemExit("bench scorecard: needs PostgreSQL (set DATABASE_URL=postgres://…)")
    tag = f"bench-sc-{uuid.uuid4().hex[:8]}"
    try:
        started = time.monotonic()
        supplier_ids = _seed(tag=tag, suppliers=suppliers, supplier_orders=supplier_orders)
        progress(f"seeded in {time.monotonic() - started:.1f} s; scoring every supplier")

        run = suppliers_score()
        rerun = suppliers_score()
        one_started = time.monotonic()
        suppliers_score(supplier_ids=[supplier_ids[0]])
        one_ms = (time.monotonic() - one_started) * 1000
        progress(f"scored {run.suppliers:,} suppliers in {run.seconds:.2f} s (rerun {rerun.seconds:.2f} s)")
        checks = _check(tag=tag, run=run, rerun=rerun, supplier_orders=supplier_orders)
    finally:
        _clean_up(tag=tag)
    return {
        "scorecard_suppliers": suppliers,
        "scorecard_supplier_orders": run.supplier_orders,
        "scorecard_seconds": run.seconds,
        "scorecard_rerun_seconds": rerun.seconds,
        "scorecard_one_supplier_ms": round(one_ms, 1),
        "scorecard_scored": run.scored,
        "scorecard_alerts_opened": run.alerts_opened,
        **checks,
    }


def _seed(*, tag: str, suppliers: int, supplier_orders: int) -> list[int]:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.seeding import insert_select
    from orders.models import Order
    from suppliers.models import Supplier, SupplierOrder

    buyer = get_user_model().objects.create(username=tag)
    params = {"tag": tag, "now": timezone.now(), "buyer": buyer.id, "suppliers": suppliers, "n": supplier_orders}
    with transaction.atomic(), connection.cursor() as cursor:
        _skip_foreign_key_checks(cursor)
        insert_select(
            cursor,
            Supplier,
            {
                "id": "nextval(pg_get_serial_sequence('suppliers_supplier', 'id'))",
                "name": "'Bench supplier ' || g",
                "code": "%(tag)s || '-' || g",
                "created_at": "%(now)s",
            },
            "FROM generate_series(1, %(suppliers)s) AS g",
            params,
        )
        # Each supplier order: placed 10–29 days before its delivery, delivered 0–89 days ago,
        # 4 days early to 2 days late, 95–104 of 100 units, 0–3 defective, acknowledged after 0.5–47.5 h.
        cursor.execute(
            """
            CREATE TEMP TABLE bench_sc_orders ON COMMIT DROP AS
            WITH seeded AS (
                SELECT array_agg(id ORDER BY id) AS ids FROM suppliers_supplier WHERE code LIKE %(tag)s || '-%%'
            )
            SELECT g, gen_random_uuid() AS order_id, seeded.ids[1 + mod(g, %(suppliers)s)] AS supplier_id,
                   %(now)s - (mod(g * 7, 89) * interval '1 day') - (mod(g, 23) * interval '1 hour') AS delivered_at,
                   10 + mod(g, 20) AS lead_days
            FROM generate_series(1, %(n)s) AS g, seeded
            """,
            params,
        )
        insert_select(
            cursor,
            Order,
            {
                "id": "o.order_id",
                "buyer_id": "%(buyer)s",
                "product_type": "%(tag)s",
                "quantity": "100",
                "style_details": "'[]'::jsonb",
                "unit_price": "11.50",
                "total_price": "1150.00",
                "workflow_status": "'delivered'",
                "is_batch_order": "false",
                "idempotency_key": "NULL",
                "created_at": "o.delivered_at - o.lead_days * interval '1 day'",
                "updated_at": "o.delivered_at",
            },
            "FROM bench_sc_orders AS o",
            params,
        )
        insert_select(
            cursor,
            SupplierOrder,
            {
                "id": "gen_random_uuid()",
                "order_number": "%(tag)s || '-' || o.g",
                "supplier_id": "o.supplier_id",
                "batch_id": "NULL",
                "buyer_order_id": "o.order_id",
                "product_type": "%(tag)s",
                "quantity": "100",
                "supplier_price": "9.00",
                "status": "'delivered'",
                "promised_date": "(o.delivered_at)::date - (mod(o.g, 7) - 4)",
                "acknowledged_at": (
                    "o.delivered_at - o.lead_days * interval '1 day' + (mod(o.g, 48) + 0.5) * interval '1 hour'"
                ),
                "shipped_at": "o.delivered_at - interval '2 days'",
                "delivered_at": "o.delivered_at",
                "delivered_units": "95 + mod(o.g, 10)",
                "defective_units": "mod(o.g, 4)",
                "acknowledge_hours": "mod(o.g, 48) + 0.5",
                "lead_time_days": "o.lead_days",
                "days_late": "mod(o.g, 7) - 4",
                "created_at": "o.delivered_at - o.lead_days * interval '1 day'",
            },
            "FROM bench_sc_orders AS o",
            params,
        )
        cursor.execute("SELECT id FROM suppliers_supplier WHERE code LIKE %(tag)s || '-%%' ORDER BY id", params)
        ids = [row[0] for row in cursor.fetchall()]
    with connection.cursor() as cursor:
        for table in ("suppliers_supplier", "suppliers_supplierorder", "orders_order"):
            cursor.execute(f"ANALYZE {table}")
    return ids


def _skip_foreign_key_checks(cursor) -> None:
    """Foreign keys not checked row by row while seeding (the rows point at what the same
    transaction just inserted): 22 s → 15 s per 100,000 supplier orders here. Needs a superuser
    (as `make bench`'s postgres is); without one, the checks simply run."""
    from django.db import DatabaseError, transaction

    try:
        with transaction.atomic():
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        pass


def _check(*, tag: str, run, rerun, supplier_orders: int) -> dict:
    """Every supplier got today's snapshot exactly once (rerun included) and a score within 0..100."""
    from django.db.models import Count, Max, Min
    from django.utils import timezone

    from suppliers.models import Supplier, SupplierScoreSnapshot

    snapshots = SupplierScoreSnapshot.objects.filter(supplier__code__startswith=f"{tag}-", day=timezone.localdate())
    stats = snapshots.aggregate(
        rows=Count("id"), suppliers=Count("supplier", distinct=True), low=Min("score"), high=Max("score")
    )
    seeded = Supplier.objects.filter(code__startswith=f"{tag}-").count()
    problems = []
    if stats["rows"] != seeded or stats["suppliers"] != seeded:
        problems.append(f"{stats['rows']} snapshots today for {seeded} suppliers")
    if run.supplier_orders != supplier_orders or rerun.supplier_orders != supplier_orders:
        problems.append(f"counted {run.supplier_orders} / {rerun.supplier_orders} deliveries of {supplier_orders}")
    if stats["low"] is not None and not (0 <= stats["low"] <= stats["high"] <= 100):
        problems.append(f"scores outside 0..100: {stats['low']}–{stats['high']}")
    checks = {"scorecard_consistent": not problems}
    if problems:
        checks["scorecard_problems"] = problems
    return checks


def _clean_up(*, tag: str) -> None:
    """The seeded rows: supplier and buyer orders by TRUNCATE (the bench owns those tables), then
    the suppliers with their snapshots and alerts."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from bench.services import reset_bench_data
    from suppliers.models import Supplier, SupplierAlert, SupplierScoreSnapshot

    reset_bench_data()
    with transaction.atomic():
        SupplierAlert.objects.filter(supplier__code__startswith=f"{tag}-").delete()
        SupplierScoreSnapshot.objects.filter(supplier__code__startswith=f"{tag}-").delete()
        Supplier.objects.filter(code__startswith=f"{tag}-").delete()
        get_user_model().objects.filter(username=tag).delete()
