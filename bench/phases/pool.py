"""pool — pooling throughput: COPY ``--orders`` submitted orders at once, real workers pool them.

Starts real worker processes, COPYs the orders in one transaction (their ``created_at`` is
the submit time), triggers pooling and waits until none is left ``submitted``: orders/s,
p50/p95 submit → pooled, worker CPU per order, peak worker memory; then checks the pooling
invariants. "2 worker processes" are two ``celery worker`` processes with one prefork child
each (``--workers 2 --concurrency 1``), as two hosts would run them: each has its own broker
connection and prefetch, so pooling drains and the batch decisions they trigger run side by
side and compete for rows as in production. One worker with ``--concurrency 2`` would save a
parent process (~90 MiB) but stands for one host; the flags allow either. The same run is
repeated on emptied tables for each of ``--pool-scaling-sizes`` (20,000 and 300,000):
``pool_orders_per_s_20k`` / ``_300k`` and their ratio show whether the cost per order grows
with the backlog and the tables.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

from bench.invariants import check_invariants, report_invariants
from bench.orders import catalog_product_types, insert_orders
from bench.pooling import pooling_outcome, wait_for_pooling
from bench.procstats import RssSampler, load_average, tree_cpu_seconds
from bench.results import per_second

NAME = "pool"
GOALS = (
    ("pool_orders_per_s", ">=", 5000),
    # orders/s at 300,000 within 10 % of orders/s at 20,000
    ("pool_scaling_ratio", ">=", 0.9),
    # business events written beside pooling cost at most 10 % of its throughput
    ("pool_events_cost_percent", "<", 10),
)
TABLE_ROWS = (
    ("orders", "orders generated", ""),
    ("pool_orders_per_s", "pooling throughput", "orders/s"),
    ("pool_seconds", "trigger → last order pooled", "s"),
    ("pool_p50_ms", "submit → pooled p50", "ms"),
    ("pool_p95_ms", "submit → pooled p95", "ms"),
    ("pool_pooled_orders", "pooled into batches", "orders"),
    ("pool_direct_orders", "direct orders", "orders"),
    ("pool_rejected_orders", "rejected orders", "orders"),
    ("pool_batches", "batches", ""),
    ("pool_worker_cpu_ms_per_order", "worker CPU per order", "ms"),
    ("worker_peak_rss_mib", "peak worker memory (one worker tree)", "MiB"),
    ("worker_peak_rss_total_mib", "peak worker memory (all workers)", "MiB"),
    ("worker_peak_pss_total_mib", "peak worker PSS (all, shared split)", "MiB"),
    ("invariants_ok", "pooling invariants", ""),
    ("pool_orders_per_s_20k", "pooling throughput, 20,000 backlog", "orders/s"),
    ("pool_orders_per_s_300k", "pooling throughput, 300,000 backlog", "orders/s"),
    ("pool_scaling_ratio", "throughput, largest / smallest backlog", ""),
    ("pool_orders_per_s_events_off", "pooling throughput, business events off", "orders/s"),
    ("pool_events_cost_percent", "throughput lost to business events", "%"),
)


def add_arguments(parser) -> None:
    parser.add_argument("--orders", type=int, default=100_000, help="submitted orders to pool (default 100,000)")
    parser.add_argument("--pool-timeout", type=float, default=240, help="give up pooling after this many seconds")
    parser.add_argument(
        "--pool-scaling-sizes",
        type=sizes_list,
        default=[20_000, 300_000],
        metavar="N,N",
        help="also pool these backlogs, for pool_orders_per_s_<N> and pool_scaling_ratio "
        "(default 20000,300000; '' for none)",
    )
    parser.add_argument(
        "--settle-timeout", type=float, default=10, help="after pooling, let follow-up tasks run this long"
    )
    parser.add_argument(
        "--pool-skip-events-off",
        action="store_true",
        help="skip pooling --orders once more with business events off (their cost is then not measured)",
    )


def check_arguments(args, parser) -> None:
    if args.orders < 1 or any(size < 1 for size in args.pool_scaling_sizes):
        parser.error("--orders and --pool-scaling-sizes must be positive")


def sizes_list(text: str) -> list[int]:
    return [int(item.replace("_", "")) for item in text.split(",") if item.strip()]


def run(ctx) -> dict:
    """The main run at ``--orders`` with every figure, and the scaling runs beside it."""
    args = ctx.args
    sizes = sorted(set(args.pool_scaling_sizes) | {args.orders})
    figures: dict = {"orders": args.orders, "pool_scaling_sizes": sizes}
    for size in sizes:
        measured = pool_once(ctx, size, timeout=args.pool_timeout * max(1.0, size / args.orders))
        label = size_label(size)
        for key in ("orders_per_s", "seconds", "worker_cpu_ms_per_order", "p95_ms"):
            figures[f"pool_{key}_{label}"] = measured[f"pool_{key}"]
        figures[f"invariants_ok_{label}"] = measured["invariants_ok"]
        if size == args.orders:
            figures.update(measured)
    smallest, largest = sizes[0], sizes[-1]
    small_rate = figures[f"pool_orders_per_s_{size_label(smallest)}"]
    large_rate = figures[f"pool_orders_per_s_{size_label(largest)}"]
    # Orders/s at the largest backlog over orders/s at the smallest: 1.0 when the cost per
    # order does not grow with the backlog and the tables.
    figures["pool_scaling_ratio"] = (
        round(large_rate / small_rate, 3) if small_rate and large_rate and largest > smallest else None
    )
    if not args.pool_skip_events_off:
        # The same backlog with SLEEKBATCH_BUSINESS_EVENTS=0 in the workers: what the events cost.
        ctx.progress(f"{args.orders:,} orders once more with business events off")
        off = pool_once(ctx, args.orders, timeout=args.pool_timeout, events=False)
        figures["pool_orders_per_s_events_off"] = off["pool_orders_per_s"]
        figures["invariants_ok_events_off"] = off["invariants_ok"]
        if off["pool_orders_per_s"] and figures["pool_orders_per_s"]:
            lost = 1 - figures["pool_orders_per_s"] / off["pool_orders_per_s"]
            figures["pool_events_cost_percent"] = round(100 * lost, 1)
    return figures


def size_label(orders: int) -> str:
    """20000 → "20k", 300000 → "300k", 1500 → "1500" (a figure name's suffix)."""
    return f"{orders // 1000}k" if orders % 1000 == 0 else str(orders)


def pool_once(ctx, orders: int, *, timeout: float, events: bool = True) -> dict:
    """Pool ``orders`` submitted orders COPYed at once into emptied tables; their figures.

    ``events``: whether the workers write business events (SLEEKBATCH_BUSINESS_EVENTS).
    """
    from django.utils import timezone

    from batches.pooling.tasks import request_pooling

    args = ctx.args
    ctx.reset_bench_data()
    buyers = seeded_buyers()
    product_types = product_types_or_exit()

    figures: dict = {}
    with _business_events(events):
        workers = ctx.start_workers()
    sampler = RssSampler(workers.pids)
    sampler.start()
    figures["pool_load_average_before"] = load_average()
    finished = None
    try:
        ctx.progress(f"generating {orders:,} orders, then one COPY of them as submitted")
        submitted_at = insert_orders(
            orders, seed=args.seed, buyers=buyers, product_types=product_types, correlation_id="bench"
        )
        figures["pool_insert_seconds"] = round((timezone.now() - submitted_at).total_seconds(), 2)
        ctx.progress(f"COPY committed in {figures['pool_insert_seconds']} s; triggering pooling")

        cpu_before = tree_cpu_seconds(workers.pids)
        triggered_at = timezone.now()
        started = time.monotonic()
        request_pooling()
        finished = wait_for_pooling(ctx, orders, started, timeout)
        worker_cpu = tree_cpu_seconds(workers.pids) - cpu_before
        if args.settle_timeout > 0:
            ctx.progress(f"letting follow-up tasks (batch decisions) run, up to {args.settle_timeout:.0f} s")
        figures["pool_followup_backlog"] = settle(ctx, timeout=args.settle_timeout)
    finally:
        sampler.stop()
        ctx.stop_workers(workers)
    elapsed = (finished - started) if finished else None

    measured = pooling_outcome(submitted_at)
    last_pooled = measured.pop("last_pooled_at")
    figures.update({f"pool_{key}": value for key, value in measured.items()})
    figures["pool_timed_out"] = not finished
    figures["pool_seconds"] = round(elapsed, 3) if finished else None
    figures["pool_orders_per_s"] = per_second(orders, elapsed) if finished else None
    figures["pool_trigger_to_last_pooled_at_s"] = (
        round((last_pooled - triggered_at).total_seconds(), 3) if last_pooled else None
    )
    figures["pool_worker_cpu_ms_per_order"] = round(worker_cpu * 1000 / orders, 3)
    figures["worker_processes"] = args.workers
    figures["worker_concurrency"] = args.concurrency
    figures["worker_peak_rss_mib"] = round(sampler.peak_per_worker_kib / 1024, 1)
    figures["worker_peak_rss_total_mib"] = round(sampler.peak_total_kib / 1024, 1)
    figures["worker_peak_pss_total_mib"] = round(sampler.peak_total_pss_kib / 1024, 1)
    figures["worker_rss_samples"] = sampler.samples

    violations = check_invariants()
    figures["invariants"] = {name: count == 0 for name, count in violations.items()}
    figures["invariants_ok"] = report_invariants(ctx, violations) and bool(finished)
    if not finished:
        ctx.fail(f"pooling {orders:,} orders did not finish within {timeout:.0f}s; see {workers.log_dir}")
    ctx.progress(
        f"{orders:,} orders: {figures['pool_orders_per_s'] or 0:,.0f} orders/s, "
        f"worker CPU {figures['pool_worker_cpu_ms_per_order']} ms/order"
    )
    return figures


def seeded_buyers() -> list:
    """The demo buyers (seed_demo) the generated orders are spread over."""
    from django.contrib.auth import get_user_model

    buyers = list(
        get_user_model().objects.filter(groups__name="buyer", username__startswith="buyer").values_list("id", flat=True)
    )
    if not buyers:
        raise SystemExit("bench: seed_demo left no buyers to order for")
    return buyers


def product_types_or_exit() -> dict[str, int]:
    product_types = catalog_product_types()
    if not product_types:
        raise SystemExit("bench: seed_demo left no offers to order from")
    return product_types


@contextmanager
def _business_events(on: bool):
    """Workers started inside write business events or not (they read the environment)."""
    before = os.environ.get("SLEEKBATCH_BUSINESS_EVENTS")
    os.environ["SLEEKBATCH_BUSINESS_EVENTS"] = "1" if on else "0"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SLEEKBATCH_BUSINESS_EVENTS")
        else:
            os.environ["SLEEKBATCH_BUSINESS_EVENTS"] = before


def settle(ctx, timeout: float) -> int:
    """Wait until the queues are empty, at most ``timeout`` s; the messages still queued.

    The invariants hold in every committed state, so they are checked whatever is
    left; waiting only lets the follow-up work show in the memory peak.
    """
    deadline = time.monotonic() + timeout
    while (backlog := ctx.queue_backlog()) and time.monotonic() < deadline:
        time.sleep(0.25)
    if backlog:
        ctx.progress(f"{backlog:,} follow-up messages still queued; they are dropped (invariants hold regardless)")
    return backlog
