"""steady — submit → pooled as a buyer feels it: orders POSTed at a fixed rate while real workers pool.

gunicorn (production configuration) and ``--workers`` real Celery workers run together;
an open-loop generator POSTs ``--steady-rate`` orders per second for ``--steady-seconds``
over loopback, on schedule whatever the answers take, spread over the API buyers. Each
order's submit → pooled time is read from its row (``pooled_at - created_at``, both
written by the server), so the figure is per order, from the intake's commit to the
pooling write. Then the pooling invariants are checked.
"""

from __future__ import annotations

import random
import time

from bench.invariants import check_invariants, report_invariants
from bench.load import Gunicorn, fixed_rate_load
from bench.orders import catalog_product_types, small_order_payloads
from bench.pooling import pooling_outcome, wait_for_pooling
from bench.procstats import load_average, tree_cpu_seconds
from bench.services import api_tokens, buyers_for_rate

NAME = "steady"
GOALS = (("steady_submit_to_pooled_p95_ms", "<", 1000),)
TABLE_ROWS = (
    ("steady_rate_per_s", "steady: target rate", "orders/s"),
    ("steady_achieved_per_s", "steady: rate scheduled", "orders/s"),
    ("steady_answered_per_s", "steady: rate the web answered", "orders/s"),
    ("steady_submit_to_pooled_p50_ms", "steady: submit → pooled p50", "ms"),
    ("steady_submit_to_pooled_p95_ms", "steady: submit → pooled p95", "ms"),
    ("steady_api_p95_ms", "steady: POST latency p95 (from due time)", "ms"),
    ("steady_errors", "steady: non-2xx / socket errors", ""),
    ("steady_invariants_ok", "steady: pooling invariants", ""),
)
BUYER_PREFIX = "bench-api"  # the api phase's buyers: their tokens exist after either phase ran


def add_arguments(parser) -> None:
    parser.add_argument("--steady-rate", type=float, default=500, help="orders POSTed per second (default 500)")
    parser.add_argument("--steady-seconds", type=float, default=60, help="for this long (default 60)")
    parser.add_argument(
        "--steady-warmup", type=float, default=3, help="the same load first, unmeasured, seconds (default 3)"
    )
    parser.add_argument(
        "--steady-connections", type=int, default=64, help="most requests in flight at once (default 64)"
    )
    parser.add_argument(
        "--steady-drain-timeout", type=float, default=60, help="after the load, wait this long for pooling to finish"
    )


def check_arguments(args, parser) -> None:
    if args.steady_rate <= 0 or args.steady_seconds <= 0 or args.steady_connections < 1:
        parser.error("--steady-rate, --steady-seconds and --steady-connections must be positive")


def run(ctx) -> dict:
    from django.utils import timezone

    args = ctx.args
    ctx.reset_bench_data()
    tokens = api_tokens(buyers_for_rate(args.steady_rate, at_least=args.api_buyers), prefix=BUYER_PREFIX)
    bodies = small_order_payloads(64, random.Random(args.seed + 2), catalog_product_types())

    figures: dict = {"steady_rate_per_s": args.steady_rate, "steady_seconds": args.steady_seconds}
    workers = ctx.start_workers()
    try:
        with Gunicorn(ctx.var_dir / "bench-gunicorn-steady.log") as server:
            ctx.progress(
                f"gunicorn on 127.0.0.1:{server.port} ({server.config}) and {len(workers.pids)} worker(s); "
                f"POSTing {args.steady_rate:,.0f} orders/s for {args.steady_seconds:.0f} s over {len(tokens)} buyers"
            )
            if args.steady_warmup > 0:  # first requests pay for imports and new database connections
                fixed_rate_load(
                    "127.0.0.1",
                    server.port,
                    "/api/orders/",
                    tokens,
                    bodies,
                    rate=args.steady_rate,
                    seconds=args.steady_warmup,
                    connections=args.steady_connections,
                )
            figures["steady_load_average_before"] = load_average()
            since = timezone.now()
            cpu_before = tree_cpu_seconds(workers.pids), tree_cpu_seconds([server.proc.pid])
            result = fixed_rate_load(
                "127.0.0.1",
                server.port,
                "/api/orders/",
                tokens,
                bodies,
                rate=args.steady_rate,
                seconds=args.steady_seconds,
                connections=args.steady_connections,
            )
            ctx.progress(
                f"scheduled {result['requests']:,} in {result['send_seconds']:.1f} s, answered in "
                f"{result['seconds']:.1f} s ({result['answered_per_s']:,.0f}/s); waiting for pooling to finish"
            )
            started = time.monotonic()
            finished = wait_for_pooling(ctx, result["requests"], started, args.steady_drain_timeout)
            worker_cpu = tree_cpu_seconds(workers.pids) - cpu_before[0]
            web_cpu = tree_cpu_seconds([server.proc.pid]) - cpu_before[1]
    except RuntimeError as exc:
        raise SystemExit(f"bench: {exc}") from None
    finally:
        ctx.stop_workers(workers)

    outcome = pooling_outcome(since)
    stored = sum(outcome[key] for key in ("pooled_orders", "direct_orders", "rejected_orders", "left_submitted"))
    errors = result["non2xx"]  # non-2xx answers and requests that got no answer
    figures.update(
        steady_requests=result["requests"],
        steady_achieved_per_s=result["requests_per_s"],
        steady_answered_per_s=result["answered_per_s"],
        steady_send_lateness_p95_ms=result["send_lateness_p95_ms"],
        steady_submit_to_pooled_p50_ms=outcome["p50_ms"],
        steady_submit_to_pooled_p95_ms=outcome["p95_ms"],
        steady_pooled_orders=outcome["pooled_orders"],
        steady_orders_stored=stored,
        steady_api_p50_ms=result["p50_ms"],
        steady_api_p95_ms=result["p95_ms"],
        steady_api_p99_ms=result["p99_ms"],
        steady_errors=errors,
        steady_worker_cpu_ms_per_order=round(worker_cpu * 1000 / stored, 3) if stored else None,
        steady_web_cpu_ms_per_request=round(web_cpu * 1000 / result["requests"], 3) if result["requests"] else None,
        steady_web_config=server.config,
    )
    if errors:
        ctx.fail(f"steady: {errors:,} requests failed; first: {result['first_bad']}")
    answered = result["answered"] - result["non2xx"]
    if stored < answered:
        ctx.fail(f"steady: {answered:,} orders accepted but only {stored:,} stored")
    # A rate the generator could not keep up is not the rate asked for: say so.
    if result["requests_per_s"] and result["requests_per_s"] < 0.95 * args.steady_rate:
        ctx.progress(f"WARNING: the load went out at {result['requests_per_s']:,.0f}/s, below the target")
    violations = check_invariants()
    figures["steady_invariants_ok"] = report_invariants(ctx, violations) and finished is not None
    if finished is None:
        ctx.fail(f"steady: orders still submitted {args.steady_drain_timeout:.0f} s after the load stopped")
    return figures
