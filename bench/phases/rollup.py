"""rollup — daily rollups over a month of orders, run by a real worker; the API against the raw tables.

Bulk-loads ``--rollup-orders`` orders spread over 30 days with everything they lead to (batches,
contributions, batch events, refunds and the business events pooling and the transitions write),
then has a worker run ``analytics.rollup_daily``: from scratch (no earlier run), then again after
one more day of ``--rollup-incremental-orders`` orders. Reads each run's time and the worker
child's peak memory from its job run; checks every DailyStats figure against the raw tables,
times GET /api/analytics/daily/ against computing the same figures from those tables, and times
the ops dashboard's data endpoint on this data.
"""

from __future__ import annotations

import statistics
import time

from bench.seeding import insert_select

NAME = "rollup"
GOALS = (
    ("rollup_full_seconds", "<", 5),
    ("rollup_incremental_seconds", "<", 1),
    ("rollup_peak_rss_mib", "<", 200),
    ("rollup_api_speedup", ">=", 50),
    ("dashboard_ms", "<", 300),
)
TABLE_ROWS = (
    ("rollup_orders", "rollup: orders over 30 days", ""),
    ("rollup_events", "rollup: business events", ""),
    ("rollup_full_seconds", "daily rollup from scratch", "s"),
    ("rollup_incremental_seconds", "daily rollup after one more day", "s"),
    ("rollup_peak_rss_mib", "rollup worker peak memory (RSS)", "MiB"),
    ("rollup_api_ms", "GET /api/analytics/daily/ (30 days)", "ms"),
    ("rollup_raw_ms", "the same figures from the raw tables", "ms"),
    ("rollup_api_speedup", "rollup API vs raw tables", "×"),
    ("dashboard_ms", "ops dashboard data endpoint", "ms"),
    ("rollup_consistent", "rollup = raw tables", ""),
)
DAYS = 30
ORDERS_PER_BATCH = 10
TASK = "analytics.rollup_daily"
API_RUNS = 5


def add_arguments(parser) -> None:
    parser.add_argument("--rollup-orders", type=int, default=5_000_000, help="orders over 30 days (default 5,000,000)")
    parser.add_argument(
        "--rollup-incremental-orders", type=int, default=200_000, help="orders of the added day (default 200,000)"
    )


def check_arguments(args, parser) -> None:
    if args.rollup_orders < 1000 or args.rollup_incremental_orders < 100:
        parser.error("--rollup-orders must be at least 1,000 and --rollup-incremental-orders at least 100")


def run(ctx) -> dict:
    ctx.reset_bench_data()
    product_types = _product_types()
    block = ORDERS_PER_BATCH * len(product_types)
    orders = max(block, ctx.args.rollup_orders // block * block)
    extra = max(block, ctx.args.rollup_incremental_orders // block * block)
    # A month that ends the day before yesterday; the added day is yesterday, so the dashboard's
    # last 48 hours hold it.
    start = _midnight_days_ago(DAYS + 1)
    step = DAYS * 86400 / orders  # seconds between two orders

    ctx.progress(f"loading {orders:,} orders over {DAYS} days with their batches, refunds and events")
    began = time.monotonic()
    _load(product_types, first=1, last=orders, start=start, step=step, live=False)
    _vacuum_analyze()
    seed_seconds = time.monotonic() - began
    from sleekbatch.models import BusinessEvent

    events = BusinessEvent.objects.count()
    ctx.progress(f"loaded in {seed_seconds:.0f} s: {events:,} business events")

    workers = ctx.start_workers(count=1, concurrency=1)
    try:
        full = _run_rollup_task(ctx, "from scratch")
        ctx.progress(f"one more day: {extra:,} orders")
        _load(
            product_types,
            first=orders + 1,
            last=orders + extra,
            start=start + _seconds(DAYS * 86400),
            step=86400 / extra,
            live=True,
        )
        _vacuum_analyze()
        incremental = _run_rollup_task(ctx, "incremental")
    finally:
        ctx.stop_workers(workers)

    first_day, last_day = start.date(), (start + _seconds((DAYS + 1) * 86400)).date()
    ctx.progress("the same figures from the raw tables (slow on purpose), the API, the dashboard")
    consistent, raw_ms, problems = _compare_with_raw(first_day, last_day)
    if not consistent:
        ctx.fail(f"rollup ≠ raw tables: {'; '.join(problems[:5])}")
    api_ms = _api_ms(first_day, first_day + _days(DAYS - 1))
    dashboard_ms = _dashboard_ms()
    return {
        "rollup_orders": orders,
        "rollup_incremental_orders": extra,
        "rollup_events": events,
        "rollup_seed_seconds": round(seed_seconds, 1),
        "rollup_full_seconds": round(full["seconds"], 3),
        "rollup_full_days": full["days"],
        "rollup_incremental_seconds": round(incremental["seconds"], 3),
        "rollup_incremental_days": incremental["days"],
        "rollup_peak_rss_mib": round(max(full["peak_rss_kib"], incremental["peak_rss_kib"]) / 1024, 1),
        "rollup_raw_ms": round(raw_ms, 1),
        "rollup_api_ms": round(api_ms, 2),
        "rollup_api_speedup": round(raw_ms / api_ms, 1),
        "dashboard_ms": round(dashboard_ms, 1),
        "rollup_consistent": consistent,
    }


def _seconds(n: float):
    from datetime import timedelta

    return timedelta(seconds=n)


def _days(n: int):
    from datetime import timedelta

    return timedelta(days=n)


def _midnight_days_ago(days: int):
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days)


def _product_types() -> list[tuple[str, int, int]]:
    """(product type, supplier id, offer id): the first active offer of each seeded product type."""
    from suppliers.models import SupplierOffer

    chosen = {}
    for product_type, supplier_id, offer_id in SupplierOffer.objects.order_by("product_type", "id").values_list(
        "product_type", "supplier_id", "id"
    ):
        chosen.setdefault(product_type, (product_type, supplier_id, offer_id))
    if not chosen:
        raise SystemExit("bench rollup: no supplier offers (the bench seeds the demo suppliers first)")
    return sorted(chosen.values())


def _run_rollup_task(ctx, label: str) -> dict:
    """Send the beat job's task to the worker, wait for its job run; its time, days and memory."""
    from analytics.models import JobRun, RollupRun
    from sleekbatch.celery import app

    before = JobRun.objects.filter(task_name=TASK).count()
    app.send_task(TASK)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        run = JobRun.objects.filter(task_name=TASK).order_by("-id").first()
        if JobRun.objects.filter(task_name=TASK).count() > before:
            break
        time.sleep(0.2)
    else:
        raise SystemExit(f"bench rollup: the {label} rollup did not finish within 600 s")
    if run.status != JobRun.Status.SUCCEEDED:
        raise SystemExit(f"bench rollup: the {label} rollup failed: {run.error}")
    rollup = RollupRun.objects.filter(mode=RollupRun.Mode.INCREMENTAL).order_by("-started_at", "-id")
    days = sum(r.days for r in rollup.filter(started_at=rollup.first().started_at))
    ctx.progress(f"{label}: {days} days in {run.duration_ms / 1000:.2f} s, peak RSS {run.peak_rss_kib / 1024:.0f} MiB")
    return {"seconds": run.duration_ms / 1000, "days": days, "peak_rss_kib": run.peak_rss_kib}


def _compare_with_raw(first_day, last_day) -> tuple[bool, float, list[str]]:
    from analytics.models import DailyStats
    from analytics.rollups import FIGURES, daily_figures_from_raw_tables

    began = time.monotonic()
    raw = daily_figures_from_raw_tables(first_day=first_day, last_day=last_day)
    raw_ms = (time.monotonic() - began) * 1000
    rolled = {}
    for row in DailyStats.objects.filter(day__gte=first_day, day__lte=last_day).values("day", "product_type", *FIGURES):
        key = (row.pop("day"), row.pop("product_type"))
        rolled[key] = {name: value for name, value in row.items() if value not in (0, None)}
    problems = []
    for key in sorted(set(raw) | set(rolled)):
        if raw.get(key) != rolled.get(key):
            problems.append(f"{key[0]} {key[1]}: raw {raw.get(key)} rollup {rolled.get(key)}")
    return not problems, raw_ms, problems


def _api_ms(first_day, last_day) -> float:
    return _median_get(f"/api/analytics/daily/?from={first_day}&to={last_day}")


def _dashboard_ms() -> float:
    return _median_get("/api/analytics/dashboard/")


def _median_get(path: str) -> float:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from sleekbatch.roles import OPS, assign_role

    user, _ = get_user_model().objects.get_or_create(username="bench-rollup-ops")
    assign_role(user, OPS)
    client = Client()
    client.force_login(user)
    timings = []
    for _ in range(API_RUNS):
        began = time.monotonic()
        response = client.get(path)
        timings.append((time.monotonic() - began) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"bench rollup: GET {path} answered {response.status_code}")
    return statistics.median(timings)


def _vacuum_analyze() -> None:
    from django.db import connection

    from analytics.models import DailyStats
    from batches.models import BatchContribution, BatchEvent, ProductionBatch
    from orders.models import Order, Refund
    from sleekbatch.models import BusinessEvent

    with connection.cursor() as cursor:
        for model in (Order, ProductionBatch, BatchContribution, BatchEvent, Refund, BusinessEvent, DailyStats):
            # As autovacuum would on a live system: statistics, and the visibility map index-only scans need.
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _load(product_types, *, first: int, last: int, start, step: float, live: bool) -> None:
    """Orders ``first``…``last`` (every ``step`` seconds from ``start``) and all that follows from them.

    Every 50th order is rejected, the next one direct; the others fill batches of ten orders of
    one product type, of which 7 in 10 are confirmed 30 h after they opened, one cancelled (its
    orders refunded) and one sent to review 72 h after (or now, if that is sooner), one left
    open. The business events are those pooling and the transitions write; ``live`` stamps them
    recorded now (the added day), else recorded when they happened (a month of history).
    """
    from django.db import connection, transaction

    from batches.models import BatchContribution, BatchEvent, ProductionBatch
    from orders.models import Order, Refund
    from sleekbatch.models import BusinessEvent

    types = [product_type for product_type, _, _ in product_types]
    params = {
        "first": first,
        "last": last,
        "start": start,
        "step": step,
        "types": types,
        "suppliers": [supplier for _, supplier, _ in product_types],
        "offers": [offer for _, _, offer in product_types],
        "p": len(types),
        "k": ORDERS_PER_BATCH,
        "live": live,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMP TABLE bench_rollup_orders ON COMMIT DROP AS
            SELECT i,
                   lpad(to_hex(i), 32, '0')::uuid AS id,
                   1 + mod(i, %(p)s) AS t,
                   %(start)s::timestamptz + (i - %(first)s) * %(step)s * interval '1 second' AS created_at,
                   5 + mod(i, 40) AS quantity,
                   CASE mod(i, 50) WHEN 0 THEN 'rejected' WHEN 1 THEN 'direct' ELSE 'batch' END AS route,
                   ((i - 1) / (%(k)s * %(p)s)) * %(p)s + mod(i, %(p)s) AS batch_no
              FROM generate_series(%(first)s, %(last)s) AS i
            """,
            params,
        )
        cursor.execute(
            """
            CREATE TEMP TABLE bench_rollup_batches ON COMMIT DROP AS
            SELECT batch_no, md5('bench-rollup-' || batch_no)::uuid AS id, min(t) AS t,
                   min(created_at) AS created_at, sum(quantity)::int AS current,
                   CASE WHEN mod(batch_no, 10) < 7 THEN 'confirmed' WHEN mod(batch_no, 10) = 7 THEN 'cancelled'
                        WHEN mod(batch_no, 10) = 8 THEN 'admin_review' ELSE 'open' END AS status
              FROM bench_rollup_orders WHERE route = 'batch' GROUP BY batch_no
            """
        )
        cursor.execute(
            """
            ALTER TABLE bench_rollup_batches ADD COLUMN target int, ADD COLUMN decided_at timestamptz;
            UPDATE bench_rollup_batches SET
                   target = ceil(current * CASE status WHEN 'confirmed' THEN 1.25 WHEN 'cancelled' THEN 2.5
                                                       WHEN 'admin_review' THEN 1 / 0.6 ELSE 1 / 0.3 END),
                   decided_at = least(now(), created_at + CASE status WHEN 'confirmed' THEN interval '30 hours'
                                                                    ELSE interval '72 hours' END)
            """
        )
        insert_select(
            cursor,
            ProductionBatch,
            {
                "id": "b.id",
                "product_type": "(%(types)s::text[])[b.t]",
                "supplier_id": "(%(suppliers)s::bigint[])[b.t]",
                "offer_id": "(%(offers)s::bigint[])[b.t]",
                "batch_status": "b.status",
                "target_quantity": "b.target",
                "current_quantity": "b.current",
                "styles": "'[\"classic\"]'::jsonb",
                "max_styles": "3",
                "supplier_unit_price": "10.00",
                "window_closes_at": "CASE b.status WHEN 'open' THEN now() + interval '72 hours'"
                " ELSE b.created_at + interval '72 hours' END",
                "confirmed_at": "CASE b.status WHEN 'confirmed' THEN b.decided_at END",
                "cancelled_at": "CASE b.status WHEN 'cancelled' THEN b.decided_at END",
                "review_started_at": "CASE b.status WHEN 'admin_review' THEN b.decided_at END",
                "created_at": "b.created_at",
                "updated_at": "b.created_at",
            },
            "FROM bench_rollup_batches AS b",
            params,
        )
        buyer = _bench_buyer()
        insert_select(
            cursor,
            Order,
            {
                "id": "o.id",
                "buyer_id": str(buyer),
                "product_type": "(%(types)s::text[])[o.t]",
                "quantity": "o.quantity",
                "style_details": '\'[{"style": "classic"}]\'::jsonb',
                "unit_price": "CASE WHEN o.route <> 'rejected' THEN 11.50 END",
                "total_price": "CASE WHEN o.route <> 'rejected' THEN 11.50 * o.quantity END",
                "workflow_status": "CASE WHEN o.route = 'rejected' THEN 'rejected' WHEN o.route = 'direct'"
                " THEN 'confirmed' WHEN b.status = 'confirmed' THEN 'confirmed'"
                " WHEN b.status = 'cancelled' THEN 'refunded' ELSE 'pooled' END",
                "is_batch_order": "o.route <> 'direct'",
                "idempotency_key": "NULL",
                "rejection_reason": "CASE WHEN o.route = 'rejected' THEN 'no offer for this product' ELSE '' END",
                "created_at": "o.created_at",
                "updated_at": "o.created_at + interval '2 seconds'",
                "pooled_at": "o.created_at + interval '2 seconds'",
            },
            "FROM bench_rollup_orders AS o LEFT JOIN bench_rollup_batches AS b"
            " ON o.route = 'batch' AND b.batch_no = o.batch_no",
            params,
        )
        insert_select(
            cursor,
            BatchContribution,
            {
                "id": "nextval(pg_get_serial_sequence('batches_batchcontribution', 'id'))",
                "batch_id": "b.id",
                "order_id": "o.id",
                "quantity_contributed": "o.quantity",
                "style_details": '\'[{"style": "classic"}]\'::jsonb',
                "unit_price": "11.50",
                "committed_at": "o.created_at + interval '2 seconds'",
            },
            "FROM bench_rollup_orders AS o JOIN bench_rollup_batches AS b ON b.batch_no = o.batch_no"
            " WHERE o.route = 'batch'",
            params,
        )
        batch_event = {
            "id": "nextval(pg_get_serial_sequence('batches_batchevent', 'id'))",
            "batch_id": "b.id",
            "correlation_id": "''",
            "details": "'{}'::jsonb",
        }
        insert_select(
            cursor,
            BatchEvent,
            {
                **batch_event,
                "kind": "e.kind",
                "from_status": "e.from_status",
                "to_status": "e.to_status",
                "fill_percent": "e.fill",
                "created_at": "e.at",
            },
            "FROM bench_rollup_batches AS b CROSS JOIN LATERAL (VALUES"
            " ('created', '', 'open', 0::numeric, b.created_at),"
            " (CASE b.status WHEN 'admin_review' THEN 'admin_review' ELSE b.status END, 'open', b.status,"
            "  floor(b.current * 10000 / b.target) / 100, b.decided_at)"
            ") AS e(kind, from_status, to_status, fill, at) WHERE e.kind <> 'open'",
            params,
        )
        insert_select(
            cursor,
            Refund,
            {
                "id": "nextval(pg_get_serial_sequence('orders_refund', 'id'))",
                "order_id": "o.id",
                "amount": "11.50 * o.quantity",
                "reason": "'bench: batch cancelled'",
                "correlation_id": "''",
                "created_at": "b.decided_at",
            },
            "FROM bench_rollup_orders AS o JOIN bench_rollup_batches AS b ON b.batch_no = o.batch_no"
            " WHERE o.route = 'batch' AND b.status = 'cancelled'",
            params,
        )
        # The business events, written in time order as a live system appends them (the BRIN
        # indexes the rollup reads through depend on it): orders submitted, then pooled /
        # rejected / direct two seconds later; batches opened, then decided; refunds.
        cursor.execute(
            """
            CREATE TEMP TABLE bench_rollup_events ON COMMIT DROP AS
            SELECT e.kind, e.at, o.t, o.id AS order_id, e.batch_id, NULL::bigint AS supplier_t, o.quantity,
                   e.amount, NULL::numeric AS fill, NULL::timestamptz AS opened_at
              FROM bench_rollup_orders AS o
              LEFT JOIN bench_rollup_batches AS b ON o.route = 'batch' AND b.batch_no = o.batch_no
             CROSS JOIN LATERAL (VALUES
                   ('order_submitted', o.created_at, NULL::uuid, NULL::numeric),
                   (CASE o.route WHEN 'rejected' THEN 'order_rejected' WHEN 'direct' THEN 'order_direct'
                    ELSE 'order_pooled' END, o.created_at + interval '2 seconds', b.id,
                    CASE WHEN o.route <> 'rejected' THEN 11.50 * o.quantity END)
                   ) AS e(kind, at, batch_id, amount)
            UNION ALL
            SELECT e.kind, e.at, b.t, NULL, b.id, b.t, e.quantity, e.amount, e.fill, e.opened_at
              FROM bench_rollup_batches AS b
             CROSS JOIN LATERAL (VALUES
                   ('batch_opened', b.created_at, b.target, NULL::numeric, NULL::numeric, NULL::timestamptz),
                   (CASE b.status WHEN 'confirmed' THEN 'batch_confirmed' WHEN 'cancelled' THEN 'batch_cancelled'
                    WHEN 'admin_review' THEN 'batch_sent_to_review' END, b.decided_at, b.current,
                    CASE b.status WHEN 'confirmed' THEN 11.50 * b.current END,
                    floor(b.current * 10000 / b.target) / 100, b.created_at)
                   ) AS e(kind, at, quantity, amount, fill, opened_at)
             WHERE e.kind IS NOT NULL
            UNION ALL
            SELECT 'refund_issued', b.decided_at, o.t, o.id, b.id, NULL, NULL, 11.50 * o.quantity, NULL, NULL
              FROM bench_rollup_orders AS o JOIN bench_rollup_batches AS b ON b.batch_no = o.batch_no
             WHERE o.route = 'batch' AND b.status = 'cancelled'
            """
        )
        insert_select(
            cursor,
            BusinessEvent,
            {
                "id": "nextval(pg_get_serial_sequence('sleekbatch_businessevent', 'id'))",
                "kind": "e.kind",
                "occurred_at": "e.at",
                "recorded_at": "CASE WHEN %(live)s THEN now() ELSE e.at END",
                "product_type": "(%(types)s::text[])[e.t]",
                "order_id": "e.order_id",
                "batch_id": "e.batch_id",
                "supplier_id": "(%(suppliers)s::bigint[])[e.supplier_t]",
                "quantity": "e.quantity",
                "amount": "e.amount",
                "fill_percent": "e.fill",
                "batch_opened_at": "e.opened_at",
                "correlation_id": "''",
                "reason": "''",
                "task_name": "''",
            },
            "FROM bench_rollup_events AS e ORDER BY e.at",
            params,
        )


def _bench_buyer() -> int:
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-rollup-buyer")
    return user.id
