"""The bench's PostgreSQL database, broker and machine: checks, creation, reset, description."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def service_urls(environ=os.environ) -> tuple[str, str]:
    """The database and broker URLs, or SystemExit with one line saying what is wrong."""
    database_url = environ.get("DATABASE_URL", "")
    broker_url = environ.get("CELERY_BROKER_URL", "") or environ.get("REDIS_URL", "")
    if urlsplit(database_url).scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SystemExit("bench: needs PostgreSQL: set DATABASE_URL=postgres://… (`make bench` does)")
    if urlsplit(broker_url).scheme not in {"redis", "rediss"}:
        raise SystemExit("bench: needs Redis as the broker: set CELERY_BROKER_URL=redis://… (`make bench` does)")
    return database_url, broker_url


def ensure_database(database_url: str) -> bool:
    """Create the database named in ``database_url`` if missing; True if created."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    db = dj_database_url.parse(database_url)
    params = {"host": db.get("HOST") or "127.0.0.1", "port": db.get("PORT") or 5432, "dbname": "postgres"}
    if db.get("USER"):
        params["user"] = db["USER"]
    if db.get("PASSWORD"):
        params["password"] = db["PASSWORD"]
    try:
        with psycopg.connect(**params, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone()
            if exists:
                return False
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
            return True
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SystemExit(f"bench: PostgreSQL unreachable at {params['host']}:{params['port']}: {first_line}")


def machine_info() -> dict:
    info = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    return info


def queue_backlog() -> int:
    """Messages waiting in every task queue."""
    from django.conf import settings

    from sleekbatch.celery import app

    total = 0
    with app.connection_for_write() as conn:
        for queue in settings.TASK_QUEUES:
            with contextlib.suppress(Exception):  # a queue never declared holds nothing
                total += conn.default_channel.queue_declare(queue, passive=True).message_count
    return total


def reset_bench_data() -> None:
    """Empty every table the bench fills and the task queues; suppliers, offers and users stay."""
    from django.db import connection

    from analytics.models import DailyStats, JobRun, RollupRun
    from batches.models import BatchContribution, BatchEvent, ProductionBatch
    from orders.models import Order, Refund
    from sleekbatch.models import BusinessEvent
    from sleekbatch.processes import purge_task_queues
    from suppliers.models import SupplierOrder

    tables = [m._meta.db_table for m in (BatchEvent, BatchContribution, Refund, SupplierOrder, ProductionBatch)]
    tables += [Order._meta.db_table, JobRun._meta.db_table]
    tables += [m._meta.db_table for m in (BusinessEvent, DailyStats, RollupRun)]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} CASCADE")
    purge_task_queues()
    # The bench owns this Redis cache database (Makefile: REDIS_BASE/13): clear the
    # pooling trigger and the throttle counters left by an earlier run.
    from django.core.cache import cache

    cache.clear()


def buyers_for_rate(requests_per_s: float, scopes=("user", "orders_submit"), *, at_least: int = 1) -> int:
    """How many buyers keep ``requests_per_s`` POSTs at half of each buyer's throttle limits.

    Reads the rates the web processes use (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]), so a
    bench of intake throughput never measures 429s instead.
    """
    import math

    from rest_framework.settings import api_settings

    from sleekbatch.throttling import parse_rate

    needed = at_least
    for scope in scopes:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
        if rate is None:
            continue
        allowed, seconds = parse_rate(rate)
        needed = max(needed, math.ceil(2 * requests_per_s * seconds / allowed))
    return needed


def api_tokens(count: int, prefix: str = "bench-api") -> list[str]:
    """API tokens of ``count`` buyers (created as an operator would, with create_api_user).

    Load spread over many buyers stays under each buyer's throttle limit, as many
    brands ordering at once would.
    """
    import io

    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    existing = dict(
        Token.objects.filter(user__username__startswith=f"{prefix}-", user__groups__name="buyer").values_list(
            "user__username", "key"
        )
    )
    tokens = []
    for index in range(count):
        username = f"{prefix}-{index:03d}"
        if username not in existing:
            out = io.StringIO()
            call_command("create_api_user", username, role="buyer", stdout=out, stderr=io.StringIO())
            existing[username] = out.getvalue().strip().split()[-1]
        tokens.append(existing[username])
    return tokens
