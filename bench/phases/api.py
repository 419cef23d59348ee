"""api — single-order intake: POST /api/orders/ under gunicorn, driven by wrk, beside its ceiling.

gunicorn runs with sleekbatch/gunicorn_conf.py (the production configuration); wrk (or a
Python fallback) posts single orders over loopback, closed loop with ``--api-connections``,
spread over ``--api-buyers`` buyers so none reaches its throttle limit. Each of
``--api-rounds`` rounds loads the real endpoint, then a bare Django view that parses the
JSON and INSERTs one order row (bench/ceiling.py), under the same server and settings:
requests/s and latencies are the median round's, ``api_ratio_to_ceiling`` the median of the
rounds' ratios. No Celery worker runs, so the 2 cores serve gunicorn, wrk, PostgreSQL and
Redis; the pooling triggers the intake enqueues are purged afterwards. Every 2xx answer
must be a stored order.
"""

from __future__ import annotations

import random
import statistics
import time

from bench.load import Gunicorn, find_wrk, python_load, run_wrk
from bench.orders import catalog_product_types, small_order_payloads
from bench.procstats import load_average, tree_cpu_seconds
from bench.services import api_tokens, buyers_for_rate

NAME = "api"
GOALS = (
    ("api_requests_per_s", ">=", 1000),
    ("api_p95_ms", "<", 25),
    ("api_ratio_to_ceiling", ">=", 0.8),
)
TABLE_ROWS = (
    ("api_requests_per_s", "API POST /api/orders/", "req/s"),
    ("api_p50_ms", "API latency p50", "ms"),
    ("api_p95_ms", "API latency p95", "ms"),
    ("api_p99_ms", "API latency p99", "ms"),
    ("api_errors", "API non-2xx / socket errors", ""),
    ("api_web_cpu_ms_per_request", "web CPU per request", "ms"),
    ("api_ceiling_requests_per_s", "bare Django INSERT view (ceiling)", "req/s"),
    ("api_ceiling_p95_ms", "bare view latency p95", "ms"),
    ("api_ceiling_web_cpu_ms_per_request", "bare view web CPU per request", "ms"),
    ("api_ratio_to_ceiling", "API / ceiling (median of rounds)", ""),
)
BUYER_PREFIX = "bench-api"


def add_arguments(parser) -> None:
    parser.add_argument(
        "--api-seconds", type=float, default=5, help="measured load per round and endpoint, seconds (default 5)"
    )
    parser.add_argument(
        "--api-rounds", type=int, default=3, help="rounds of API then bare-view load (default 3; medians reported)"
    )
    parser.add_argument("--api-warmup", type=float, default=2, help="unmeasured API load first, seconds")
    parser.add_argument("--api-connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--api-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--api-buyers",
        type=int,
        default=50,
        help="at least this many buyers share the load (default 50; more when the throttle rates need them)",
    )
    parser.add_argument(
        "--api-max-rate",
        type=float,
        default=2000,
        help="the most requests/s the API is expected to take: enough buyers that none reaches its throttle",
    )
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator, not wrk")


def check_arguments(args, parser) -> None:
    if min(args.api_connections, args.api_buyers, args.api_threads, args.api_rounds) < 1:
        parser.error("--api-connections, --api-buyers, --api-threads and --api-rounds must be positive")


def run(ctx) -> dict:
    from django.contrib.auth import get_user_model

    from bench.ceiling import CEILING_BUYER, CEILING_PATH
    from orders.models import Order
    from sleekbatch.processes import purge_task_queues

    args = ctx.args
    tokens = api_tokens(buyers_for_rate(args.api_max_rate, at_least=args.api_buyers), prefix=BUYER_PREFIX)
    bodies = small_order_payloads(16, random.Random(args.seed + 1), catalog_product_types())
    users = get_user_model().objects
    buyers = users.filter(username__startswith=f"{BUYER_PREFIX}-")
    users.get_or_create(username=CEILING_BUYER)
    wrk = None if args.python_load else find_wrk(progress=ctx.progress)
    generator = "wrk" if wrk else "python"
    endpoints = {"api": "/api/orders/", "ceiling": f"/{CEILING_PATH}"}

    def drive(server: Gunicorn, path: str, seconds: float) -> dict:
        if wrk is None:
            clients = args.api_connections
            return python_load("127.0.0.1", server.port, path, tokens, bodies, clients=clients, seconds=seconds)
        return run_wrk(
            wrk,
            server.url(path),
            tokens=tokens,
            bodies=bodies,
            threads=args.api_threads,
            connections=args.api_connections,
            seconds=seconds,
        )

    rounds: dict[str, list[dict]] = {"api": [], "ceiling": []}
    web_cpu = {"api": 0.0, "ceiling": 0.0}
    try:
        with Gunicorn(ctx.var_dir / "bench-gunicorn.log", env={"SLEEKBATCH_BENCH_VIEWS": "1"}) as server:
            ctx.progress(
                f"gunicorn on 127.0.0.1:{server.port} ({server.config}); no Celery worker runs, so the cores "
                f"serve the web; {generator} -t{args.api_threads} -c{args.api_connections} over {len(tokens)} "
                f"buyers: {args.api_rounds} rounds of {args.api_seconds:.0f} s on POST /api/orders/ and "
                f"{args.api_seconds:.0f} s on the bare INSERT view, after {args.api_warmup:.0f} s warm-up on each",
            )
            if args.api_warmup > 0:
                for path in endpoints.values():
                    drive(server, path, args.api_warmup)
            load_before = load_average()
            stored_before = Order.objects.filter(buyer__in=buyers).count()
            for number in range(1, args.api_rounds + 1):
                for name, path in endpoints.items():
                    cpu_before = tree_cpu_seconds([server.proc.pid])
                    result = drive(server, path, args.api_seconds)
                    web_cpu[name] += tree_cpu_seconds([server.proc.pid]) - cpu_before
                    rounds[name].append(result)
                ctx.progress(
                    f"round {number}: API {rounds['api'][-1]['requests_per_s']:,.0f} req/s "
                    f"(p95 {rounds['api'][-1]['p95_ms']} ms), bare view {rounds['ceiling'][-1]['requests_per_s']:,.0f}"
                    f" req/s (p95 {rounds['ceiling'][-1]['p95_ms']} ms)"
                )
            time.sleep(0.5)  # let requests still in flight when the load stopped commit
            stored = Order.objects.filter(buyer__in=buyers).count() - stored_before
            web_config = server.config
    except RuntimeError as exc:
        raise SystemExit(f"bench: {exc}") from None
    finally:
        purge_task_queues()  # the intake enqueued pooling triggers nobody will run

    api, ceiling = summarize(rounds["api"]), summarize(rounds["ceiling"])
    ratios = [
        a["requests_per_s"] / c["requests_per_s"]
        for a, c in zip(rounds["api"], rounds["ceiling"], strict=True)
        if a["requests_per_s"] and c["requests_per_s"]
    ]
    figures = {
        "api_load_generator": generator,
        "api_load_average_before": load_before,
        "api_connections": args.api_connections,
        "api_threads": args.api_threads,
        "api_rounds": args.api_rounds,
        "api_buyers": len(tokens),
        "api_requests": api["requests"],
        "api_seconds": api["seconds"],
        "api_requests_per_s": api["requests_per_s"],
        "api_requests_per_s_rounds": api["requests_per_s_rounds"],
        "api_p50_ms": api["p50_ms"],
        "api_p95_ms": api["p95_ms"],
        "api_p99_ms": api["p99_ms"],
        "api_max_ms": api["max_ms"],
        "api_errors": api["errors"],
        "api_orders_stored": stored,
        "api_workers_running": False,
        # CPU the web processes spent per request: steadier than requests/s on a busy machine.
        "api_web_cpu_ms_per_request": cpu_ms_per_request(web_cpu["api"], api["requests"]),
        "api_web_config": web_config,
        "api_ceiling_requests_per_s": ceiling["requests_per_s"],
        "api_ceiling_requests_per_s_rounds": ceiling["requests_per_s_rounds"],
        "api_ceiling_p95_ms": ceiling["p95_ms"],
        "api_ceiling_errors": ceiling["errors"],
        "api_ceiling_web_cpu_ms_per_request": cpu_ms_per_request(web_cpu["ceiling"], ceiling["requests"]),
        # Per round (the two endpoints measured back to back), then the median: steadier
        # than the ratio of the medians when the machine's load drifts during the phase.
        "api_ratio_to_ceiling": round(statistics.median(ratios), 3) if ratios else None,
        "api_ratio_to_ceiling_rounds": [round(ratio, 3) for ratio in ratios],
    }
    for name, summary in (("API", api), ("bare INSERT view", ceiling)):
        if summary["errors"]:
            ctx.fail(f"{name}: {summary['errors']:,} errors; first: {summary['first_bad']}")
    # Every 2xx answer is a stored order; a few more may be stored by requests cut off at the end.
    answered = api["requests"] - api["non2xx"]
    figures["api_every_accepted_order_stored"] = stored >= answered
    if stored < answered:
        ctx.fail(f"{answered:,} orders accepted but only {stored:,} stored")
    return figures


def cpu_ms_per_request(cpu_seconds: float, requests: int) -> float | None:
    return round(cpu_seconds * 1000 / requests, 3) if requests else None


def summarize(rounds: list[dict]) -> dict:
    """Rounds of one endpoint: total requests and errors; the median round's rate and latencies."""

    def median(key: str) -> float:
        return round(statistics.median(result[key] for result in rounds), 2)

    return {
        "requests": sum(result["requests"] for result in rounds),
        "seconds": round(sum(result["seconds"] for result in rounds), 3),
        "requests_per_s": round(statistics.median(result["requests_per_s"] or 0 for result in rounds), 1),
        "requests_per_s_rounds": [result["requests_per_s"] for result in rounds],
        "p50_ms": median("p50_ms"),
        "p95_ms": median("p95_ms"),
        "p99_ms": median("p99_ms"),
        "max_ms": max(result["max_ms"] for result in rounds),
        "non2xx": sum(result["non2xx"] for result in rounds),
        "errors": sum(result["non2xx"] + result["socket_errors"] for result in rounds),
        "first_bad": next((result["first_bad"] for result in rounds if result["first_bad"]), None),
    }
