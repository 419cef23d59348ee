"""api — single-order intake: POST /api/orders/ under gunicorn, driven by wrk.

gunicorn runs with sleekbatch/gunicorn_conf.py (the production configuration); wrk (or a
Python fallback) posts single orders over loopback, closed loop with ``--api-connections``,
spread over ``--api-buyers`` buyers so none reaches its throttle limit; requests/s and
p50/p95/p99. No Celery worker runs, so the 2 cores serve gunicorn, wrk, PostgreSQL and Redis;
the pooling triggers the intake enqueues are purged afterwards. Every 2xx answer must be a
stored order.
"""

from __future__ import annotations

import random
import time

from bench.load import Gunicorn, find_wrk, python_load, run_wrk
from bench.orders import catalog_product_types, small_order_payloads
from bench.procstats import load_average, tree_cpu_seconds
from bench.services import api_tokens

NAME = "api"
GOALS = (
    ("api_requests_per_s", ">=", 1000),
    ("api_p95_ms", "<", 25),
)
TABLE_ROWS = (
    ("api_requests_per_s", "API POST /api/orders/", "req/s"),
    ("api_p50_ms", "API latency p50", "ms"),
    ("api_p95_ms", "API latency p95", "ms"),
    ("api_p99_ms", "API latency p99", "ms"),
    ("api_errors", "API non-2xx / socket errors", ""),
    ("api_web_cpu_ms_per_request", "web CPU per request", "ms"),
)
BUYER_PREFIX = "bench-api"


def add_arguments(parser) -> None:
    parser.add_argument("--api-seconds", type=float, default=15, help="measured API load, seconds (default 15)")
    parser.add_argument("--api-warmup", type=float, default=2, help="unmeasured API load first, seconds")
    parser.add_argument("--api-connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--api-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--api-buyers", type=int, default=50, help="buyers the load is spread over (default 50: under each throttle)"
    )
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator, not wrk")


def check_arguments(args, parser) -> None:
    if args.api_connections < 1 or args.api_buyers < 1 or args.api_threads < 1:
        parser.error("--api-connections, --api-buyers and --api-threads must be positive")


def run(ctx) -> dict:
    from django.contrib.auth import get_user_model

    from orders.models import Order
    from sleekbatch.processes import purge_task_queues

    args = ctx.args
    tokens = api_tokens(args.api_buyers, prefix=BUYER_PREFIX)
    bodies = small_order_payloads(16, random.Random(args.seed + 1), catalog_product_types())
    buyers = get_user_model().objects.filter(username__startswith=f"{BUYER_PREFIX}-")
    wrk = None if args.python_load else find_wrk(progress=ctx.progress)
    generator = "wrk" if wrk else "python"

    def drive(server: Gunicorn, seconds: float) -> dict:
        if wrk is None:
            return python_load(
                "127.0.0.1", server.port, "/api/orders/", tokens, bodies, clients=args.api_connections, seconds=seconds
            )
        return run_wrk(
            wrk,
            server.url("/api/orders/"),
            tokens=tokens,
            bodies=bodies,
            threads=args.api_threads,
            connections=args.api_connections,
            seconds=seconds,
        )

    figures: dict = {}
    try:
        with Gunicorn(ctx.var_dir / "bench-gunicorn.log") as server:
            ctx.progress(
                f"gunicorn on 127.0.0.1:{server.port} ({server.config}); no Celery worker runs, "
                f"so the cores serve the web; {generator} with {args.api_connections} connections over "
                f"{len(tokens)} buyers, {args.api_seconds:.0f} s after a {args.api_warmup:.0f} s warm-up",
            )
            if args.api_warmup > 0:
                drive(server, args.api_warmup)
            figures["api_load_average_before"] = load_average()
            stored_before = Order.objects.filter(buyer__in=buyers).count()
            cpu_before = tree_cpu_seconds([server.proc.pid])
            result = drive(server, args.api_seconds)
            web_cpu = tree_cpu_seconds([server.proc.pid]) - cpu_before
            time.sleep(0.5)  # let requests still in flight when the load stopped commit
            stored = Order.objects.filter(buyer__in=buyers).count() - stored_before
            web_config = server.config
    except RuntimeError as exc:
        raise SystemExit(f"bench: {exc}") from None
    finally:
        purge_task_queues()  # the intake enqueued pooling triggers nobody will run

    errors = result["non2xx"] + result["socket_errors"]
    figures.update(
        api_load_generator=generator,
        api_connections=args.api_connections,
        api_buyers=len(tokens),
        api_requests=result["requests"],
        api_seconds=result["seconds"],
        api_requests_per_s=result["requests_per_s"],
        api_p50_ms=result["p50_ms"],
        api_p95_ms=result["p95_ms"],
        api_p99_ms=result["p99_ms"],
        api_max_ms=result["max_ms"],
        api_errors=errors,
        api_orders_stored=stored,
        api_workers_running=False,
        # CPU the web processes spent per request: steadier than requests/s on a busy machine.
        api_web_cpu_ms_per_request=round(web_cpu * 1000 / result["requests"], 3) if result["requests"] else None,
        api_web_config=web_config,
    )
    if result["first_bad"]:
        ctx.fail(f"API: {errors:,} errors; first non-2xx answer: {result['first_bad']}")
    elif errors:
        ctx.fail(f"API: {errors:,} socket errors")
    # Every 2xx answer is a stored order; a few more may be stored by requests cut off at the end.
    answered = result["requests"] - result["non2xx"]
    figures["api_every_accepted_order_stored"] = stored >= answered
    if stored < answered:
        ctx.fail(f"{answered:,} orders accepted but only {stored:,} stored")
    return figures
