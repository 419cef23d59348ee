#!/usr/bin/env python
"""`make bench`: throughput figures on PostgreSQL + Redis with real workers.

Phases, each with a progress line:

1. setup   — refuse anything but PostgreSQL + Redis, create the database if
             missing, migrate, seed the demo suppliers, reset the bench data.
2. pool    — start real worker processes, COPY ``--orders`` submitted orders
             in one transaction (their ``created_at`` is the submit time),
             trigger pooling and wait until none is left ``submitted``;
             orders/s, p50/p95 submit → pooled, peak worker memory; then check
             the pooling invariants.
             "2 worker processes" are two ``celery worker`` processes with one
             prefork child each (``--workers 2 --concurrency 1``), as two hosts
             would run them: each has its own broker connection and prefetch,
             so pooling drains and the batch decisions they trigger run side
             by side and compete for rows as in production. One worker with
             ``--concurrency 2`` would save a parent process (~90 MiB) but
             stands for one host; the flags allow either.
3. api     — gunicorn with sleekbatch/gunicorn_conf.py, driven by wrk (or a
             Python fallback) posting single orders over loopback, closed loop
             with ``--api-connections``; requests/s, p50/p95. The Celery
             workers are stopped first, so the 2 cores serve gunicorn, wrk,
             PostgreSQL and Redis.
4. sweep   — on emptied tables, scripts/bench_sweep.py's ``run()`` (when
             that file exists): a sweep with many batches due, then none.

Prints a table and writes the same figures to ``<VAR_DIR>/bench.json``, one
key per figure. Exits 1 when an invariant breaks or the API answers non-2xx,
so a fast but wrong result never passes as a good one.

Nothing from Django is imported at load time (each phase imports what it
needs after ``django.setup()``), so tests/bench/ can import this file and check
its helpers in milliseconds. A later issue adds its figures as a phase: a
``run_<name>_phase(args, figures)`` called from ``main()``, a ``--skip-<name>``
flag, rows in TABLE_ROWS and, for a goal, an entry in GOALS.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import math
import multiprocessing
import os
import platform
import random
import re
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent

# Goals from issues 3 and 4: (figure, comparison, bound).
GOALS = (
    ("pool_orders_per_s", ">=", 5000),
    ("api_requests_per_s", ">=", 1000),
    ("api_p95_ms", "<", 25),
    ("sweep_due_seconds", "<", 5),
    ("sweep_idle_ms", "<", 100),
)

# --- order generation -----------------------------------------------------------

# Weighted like a real catalogue: a few styles carry most orders, and most
# orders name one style. Quantities are what small brands order per run.
STYLE_WEIGHTS = {"classic": 50, "oversized": 20, "crop": 15, "vintage": 10, "slim": 5}
STYLE_COUNT_WEIGHTS = {1: 70, 2: 22, 3: 8}
COLORS = ("black", "white", "navy", "heather-grey", "forest", "sand")
SIZES = ("XS", "S", "M", "L", "XL")
SMALL_QUANTITIES = (6, 10, 12, 12, 18, 20, 24, 24, 25, 30, 36, 40, 48, 50, 60, 72)
# A direct order reaches the best offer's MOQ on its own (issue: counted apart).
DIRECT_ORDER_SHARE = 0.005
DIRECT_QUANTITIES = (600, 800, 1000)


def order_payload(rng: random.Random, product_types: dict[str, int]) -> dict:
    """One order as a buyer would submit it: product type, quantity, 1–3 styles.

    ``product_types`` maps each product type to the most styles any of its offers runs
    (the intake refuses more), so every generated order is one the API accepts.
    """
    product_type = rng.choice(sorted(product_types))
    direct = rng.random() < DIRECT_ORDER_SHARE
    quantity = rng.choice(DIRECT_QUANTITIES if direct else SMALL_QUANTITIES)
    style_count = rng.choices(list(STYLE_COUNT_WEIGHTS), weights=list(STYLE_COUNT_WEIGHTS.values()))[0]
    style_count = min(style_count, product_types[product_type])
    styles: list[str] = []
    while len(styles) < style_count:
        style = rng.choices(list(STYLE_WEIGHTS), weights=list(STYLE_WEIGHTS.values()))[0]
        if style not in styles:
            styles.append(style)
    with_sizes = rng.random() < 0.5  # sizes are optional: for every style or for none
    details = []
    remaining = quantity
    for index, style in enumerate(styles):
        share = remaining if index == len(styles) - 1 else max(1, quantity // len(styles))
        remaining -= share
        item: dict = {"style": style, "color": rng.choice(COLORS)}
        if with_sizes:
            item["sizes"] = split_sizes(share, rng)
        details.append(item)
    return {"product_type": product_type, "quantity": quantity, "style_details": details}


def split_sizes(quantity: int, rng: random.Random) -> dict[str, int]:
    sizes = rng.sample(SIZES, k=min(len(SIZES), max(1, min(quantity, 3))))
    split = {size: quantity // len(sizes) for size in sizes}
    split[sizes[0]] += quantity - sum(split.values())
    return {size: count for size, count in split.items() if count > 0}


# --- statistics and output ------------------------------------------------------


def percentile(values, fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont."""
    ordered = sorted(values)
    if not ordered:
        return None
    if not 0 <= fraction <= 1:
        raise ValueError("fraction must be within 0..1")
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def per_second(count: int, seconds: float) -> float | None:
    return round(count / seconds, 1) if seconds > 0 else None


def goal_results(figures: dict) -> dict[str, bool | None]:
    """Each goal met (True), missed (False) or not measured (None)."""
    results: dict[str, bool | None] = {}
    for name, op, bound in GOALS:
        value = figures.get(name)
        if value is None:
            results[name] = None
        else:
            results[name] = value >= bound if op == ">=" else value < bound
    return results


def write_json(path: Path, figures: dict) -> None:
    """Write atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".bench-", suffix=".json", delete=False) as tmp:
        json.dump(figures, tmp, indent=2, sort_keys=True, default=str)
        tmp.write("\n")
    os.replace(tmp.name, path)


# (figure key, label, unit) in the printed table.
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
    ("api_requests_per_s", "API POST /api/orders/", "req/s"),
    ("api_p50_ms", "API latency p50", "ms"),
    ("api_p95_ms", "API latency p95", "ms"),
    ("api_p99_ms", "API latency p99", "ms"),
    ("api_errors", "API non-2xx / socket errors", ""),
    ("api_web_cpu_ms_per_request", "web CPU per request", "ms"),
    ("sweep_open_batches", "sweep: open batches", ""),
    ("sweep_due", "sweep: of them due", ""),
    ("sweep_due_seconds", "sweep with those due", "s"),
    ("sweep_idle_ms", "sweep with none due", "ms"),
    ("sweep_batches_decided", "batches decided by the sweep", ""),
    ("sweep_consistent", "sweep side effects", ""),
)


def render_table(figures: dict) -> str:
    goals = goal_results(figures)
    lines = []
    for key, label, unit in TABLE_ROWS:
        if key not in figures:
            continue
        value = figures[key]
        if value is None:
            shown = "TIMED OUT" if figures.get("pool_timed_out") and key.startswith("pool_") else "skipped"
        elif isinstance(value, bool):
            shown = "PASS" if value else "FAIL"
        elif isinstance(value, float):
            shown = f"{value:,.{1 if abs(value) >= 10 else 2}f} {unit}".rstrip()
        else:
            shown = f"{value:,} {unit}".rstrip()
        verdict = {True: "  goal met", False: "  GOAL MISSED", None: ""}[goals.get(key)]
        lines.append(f"  {label:<40} {shown:>18}{verdict}")
    return "\n".join(lines)


def progress(phase: str, message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {phase:<6} {message}", flush=True)


# --- process memory -----------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (via /proc/<pid>/task/*/children)."""
    tree, stack = [], [pid]
    while stack:
        current = stack.pop()
        tree.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                stack.extend(int(child) for child in task.read_text().split())
    return tree


def rss_kib(pid: int) -> int:
    """Resident set size of one process in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kib(pid: int) -> int:
    """Proportional set size in KiB: shared pages split among the processes sharing them."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kib(pid: int) -> int:
    return sum(rss_kib(member) for member in process_tree(pid))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time one process has used (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pids: list[int]) -> float:
    return sum(cpu_seconds(member) for pid in pids for member in process_tree(pid))


def load_average() -> float | None:
    """The 1-minute load average: how busy the machine was besides the bench."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class RssSampler(threading.Thread):
    """Samples the summed RSS of each worker's process tree every ``interval`` s.

    RSS counts copy-on-write pages shared by a prefork parent and its children
    once per process, so the sum is an upper bound on real use; the PSS of all
    workers together (shared pages split) is sampled too, as what they really cost.
    """

    def __init__(self, pids: list[int], interval: float = 0.1):
        super().__init__(daemon=True)
        self.pids = pids
        self.interval = interval
        self.peak_per_worker_kib = 0
        self.peak_total_kib = 0
        self.peak_total_pss_kib = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def sample(self) -> None:
        per_worker = [tree_rss_kib(pid) for pid in self.pids]
        self.peak_per_worker_kib = max(self.peak_per_worker_kib, *per_worker, 0)
        self.peak_total_kib = max(self.peak_total_kib, sum(per_worker))
        pss = sum(pss_kib(member) for pid in self.pids for member in process_tree(pid))
        self.peak_total_pss_kib = max(self.peak_total_pss_kib, pss)
        self.samples += 1

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=2)
        self.sample()


# --- load generation ------------------------------------------------------------------

WRK_LUA = r"""
-- POSTs one order per request, rotating through a few bodies; counts non-2xx
-- answers per thread and prints one BENCH_JSON line when done.
local threads = {}
local bodies = %(bodies)s

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
  first_bad = ""
  counter = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Token %(token)s"
end

function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, bodies[(counter %% #bodies) + 1])
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 200) end
  end
end

function done(summary, latency, requests)
  local bad, sample = 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    local first = thread:get("first_bad") or ""
    if sample == "" then sample = first end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %%d, "duration_us": %%d, "connect_errors": %%d, "read_errors": %%d, ' ..
    '"write_errors": %%d, "status_errors": %%d, "timeouts": %%d, "non2xx": %%d, "p50_us": %%d, ' ..
    '"p95_us": %%d, "p99_us": %%d, "max_us": %%d, "mean_us": %%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, bad,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
  io.write("BENCH_FIRST_BAD " .. string.gsub(sample, "\n", " ") .. "\n")
end
"""


def wrk_script(token: str, bodies: list[dict]) -> str:
    lua_bodies = "{" + ", ".join(lua_string(json.dumps(body)) for body in bodies) + "}"
    return WRK_LUA % {"bodies": lua_bodies, "token": token}


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_wrk_output(text: str) -> dict:
    """Figures from the BENCH_JSON line that the Lua ``done()`` prints."""
    match = re.search(r"^BENCH_JSON (\{.*\})$", text, re.MULTILINE)
    if not match:
        raise ValueError(f"no BENCH_JSON line in wrk output:\n{text[-2000:]}")
    raw = json.loads(match.group(1))
    bad = re.search(r"^BENCH_FIRST_BAD (.*)$", text, re.MULTILINE)
    seconds = raw["duration_us"] / 1e6
    socket_errors = raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"]
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 3),
        "requests_per_s": per_second(raw["requests"], seconds),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p95_ms": round(raw["p95_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "non2xx": raw["non2xx"],
        "socket_errors": socket_errors,
        "first_bad": (bad.group(1).strip() if bad else "") or None,
    }


def find_wrk(install: bool = True) -> str | None:
    """wrk on PATH; installed from Debian's packages when running as root."""
    if shutil.which("wrk") or not install or os.geteuid() != 0 or not shutil.which("apt-get"):
        return shutil.which("wrk")
    progress("api", "wrk missing: apt-get install -y wrk")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install_wrk = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install_wrk, env=env, capture_output=True, check=False).returncode != 0:
        # A fresh machine has no package lists yet.
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, check=False)
        subprocess.run(install_wrk, env=env, capture_output=True, check=False)
    return shutil.which("wrk")


def _python_load_client(args) -> tuple[list[float], int, str]:
    """One load process: keep-alive POSTs until the deadline; latencies in ms."""
    host, port, path, token, bodies, deadline = args
    headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
    latencies: list[float] = []
    bad, first_bad, index = 0, "", 0
    conn = http.client.HTTPConnection(host, port, timeout=10)
    while time.monotonic() < deadline:
        body = bodies[index % len(bodies)]
        index += 1
        started = time.perf_counter()
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            bad += 1
            first_bad = first_bad or repr(exc)
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=10)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        if not 200 <= response.status < 300:
            bad += 1
            first_bad = first_bad or f"{response.status} {payload[:200]!r}"
        if response.will_close:
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.close()
    return latencies, bad, first_bad


def python_load(host: str, port: int, path: str, token: str, bodies: list[dict], *, clients: int, seconds: float):
    """Fallback load generator: ``clients`` processes, closed loop, bounded in time."""
    encoded = [json.dumps(body) for body in bodies]
    started = time.monotonic()
    deadline = started + seconds
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        results = pool.map(_python_load_client, [(host, port, path, token, encoded, deadline)] * clients)
    elapsed = time.monotonic() - started
    latencies = [value for result in results for value in result[0]]
    bad = sum(result[1] for result in results)
    first_bad = next((result[2] for result in results if result[2]), None)
    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 3),
        "requests_per_s": per_second(len(latencies), elapsed),
        "p50_ms": round(percentile(latencies, 0.50) or 0, 2),
        "p95_ms": round(percentile(latencies, 0.95) or 0, 2),
        "p99_ms": round(percentile(latencies, 0.99) or 0, 2),
        "max_ms": round(max(latencies, default=0), 2),
        "non2xx": bad,
        "socket_errors": 0,
        "first_bad": first_bad,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- environment checks -----------------------------------------------------------------


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


# --- the run ------------------------------------------------------------------------------


def queue_backlog() -> int:
    from django.conf import settings

    from sleekbatch.celery import app

    total = 0
    with app.connection_for_write() as conn:
        for queue in settings.TASK_QUEUES:
            with contextlib.suppress(Exception):  # a queue never declared holds nothing
                total += conn.default_channel.queue_declare(queue, passive=True).message_count
    return total


def reset_bench_data() -> None:
    """Empty every table the bench fills; suppliers, offers and users stay."""
    from django.db import connection

    from analytics.models import JobRun
    from batches.models import BatchContribution, BatchEvent, ProductionBatch
    from orders.models import Order, Refund
    from sleekbatch.processes import purge_task_queues
    from suppliers.models import SupplierOrder

    tables = [m._meta.db_table for m in (BatchEvent, BatchContribution, Refund, SupplierOrder, ProductionBatch)]
    tables += [Order._meta.db_table, JobRun._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} CASCADE")
    purge_task_queues()
    # The bench owns this Redis cache database (Makefile: REDIS_BASE/13): clear the
    # pooling trigger and the throttle counters left by an earlier run.
    from django.core.cache import cache

    cache.clear()


def copy_text(value) -> str:
    """One column of a PostgreSQL text-format COPY row."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    text = value if isinstance(value, str) else str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


COPY_BLOCK_BYTES = 1 << 20
# Stands in for the submit time while the rows are generated (it cannot occur in them).
SUBMITTED_AT_MARK = "\x00submitted-at\x00"


def order_copy_rows(count: int, *, seed: int, buyers: list, product_types: dict[str, int], fields, fixed: dict) -> str:
    """Text-format COPY data for ``count`` generated orders, with SUBMITTED_AT_MARK for the times.

    ``fields`` are the model's concrete fields; a column the bench does not set gets
    the field's default (JSON fields as JSON), so a new model field needs no change here.
    """
    rng = random.Random(seed)
    defaults = {}
    for f in fields:
        value = f.get_default()
        defaults[f.attname] = json.dumps(value) if f.get_internal_type() == "JSONField" else value
    lines = []
    for index in range(count):
        payload = order_payload(rng, product_types)
        row = dict(defaults, **fixed)
        row.update(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            buyer_id=buyers[index % len(buyers)],
            product_type=payload["product_type"],
            quantity=payload["quantity"],
            style_details=json.dumps(payload["style_details"]),
        )
        lines.append("\t".join(copy_text(row[f.attname]) for f in fields) + "\n")
    return "".join(lines)


def insert_orders(
    count: int, *, seed: int, buyers: list, product_types: dict[str, int], correlation_id: str
) -> datetime:
    """COPY ``count`` submitted orders in one transaction; returns their ``created_at``.

    The rows are generated first, so the submit time is taken right before the
    COPY: submit → pooled then includes only the COPY and its commit.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from orders.models import Order

    fields = [f for f in Order._meta.concrete_fields if not f.generated]
    fixed = {
        "workflow_status": Order.Status.SUBMITTED.value,
        "is_batch_order": True,
        "correlation_id": correlation_id,
        "created_at": SUBMITTED_AT_MARK,
        "updated_at": SUBMITTED_AT_MARK,
    }
    data = order_copy_rows(count, seed=seed, buyers=buyers, product_types=product_types, fields=fields, fixed=fixed)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    submitted_at = timezone.now()
    data = data.replace(SUBMITTED_AT_MARK, submitted_at.isoformat()).encode()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.copy(f"COPY {connection.ops.quote_name(Order._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for offset in range(0, len(data), COPY_BLOCK_BYTES):
                copy.write(data[offset : offset + COPY_BLOCK_BYTES])
    return submitted_at


def pool_figures(since: datetime) -> dict:
    """Counts and submit → pooled percentiles of the bench's orders."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH bench AS (
                SELECT *, is_batch_order AND workflow_status <> 'rejected' AND pooled_at IS NOT NULL AS into_batch
                FROM orders_order WHERE created_at >= %s
            )
            SELECT count(*) FILTER (WHERE into_batch),
                   count(*) FILTER (WHERE NOT is_batch_order AND workflow_status <> 'rejected'),
                   count(*) FILTER (WHERE workflow_status = 'rejected'),
                   count(*) FILTER (WHERE workflow_status = 'submitted'),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM pooled_at - created_at))
                       FILTER (WHERE into_batch),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM pooled_at - created_at))
                       FILTER (WHERE into_batch),
                   max(pooled_at)
            FROM bench
            """,
            [since],
        )
        pooled, direct, rejected, submitted, p50, p95, last_pooled = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM batches_productionbatch")
        batches = cursor.fetchone()[0]
    return {
        "pool_pooled_orders": pooled,
        "pool_direct_orders": direct,
        "pool_rejected_orders": rejected,
        "pool_left_submitted": submitted,
        "pool_p50_ms": round(float(p50) * 1000, 1) if p50 is not None else None,
        "pool_p95_ms": round(float(p95) * 1000, 1) if p95 is not None else None,
        "pool_batches": batches,
        "_last_pooled_at": last_pooled,
    }


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
    from django.db import connection

    violations = {}
    with connection.cursor() as cursor:
        for name, query in INVARIANT_QUERIES.items():
            cursor.execute(query)
            violations[name] = cursor.fetchone()[0]
    return violations


def run_pool_phase(args, figures: dict, var_dir: Path) -> bool:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from orders.selectors import product_catalog_load
    from orders.tasks import request_pooling
    from sleekbatch.processes import CeleryWorkers, purge_task_queues

    buyers = list(
        get_user_model().objects.filter(groups__name="buyer", username__startswith="buyer").values_list("id", flat=True)
    )
    product_types = {rules.product_type: rules.max_styles for rules in product_catalog_load().values()}
    if not buyers or not product_types:
        raise SystemExit("bench: seed_demo left no buyers or offers to order from")

    workers = CeleryWorkers(
        count=args.workers,
        concurrency=args.concurrency,
        log_dir=var_dir / "bench-workers",
        env=dict(os.environ, LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1"),
        name_prefix="bench",
    )
    progress("pool", f"starting {args.workers} worker process(es) × concurrency {args.concurrency}")
    try:
        workers.start()
    except (RuntimeError, TimeoutError) as exc:
        raise SystemExit(f"bench: {exc}") from None
    sampler = RssSampler(workers.pids)
    sampler.start()
    figures["pool_load_average_before"] = load_average()
    finished = None
    try:
        progress("pool", f"generating {args.orders:,} orders, then one COPY of them as submitted")
        submitted_at = insert_orders(
            args.orders, seed=args.seed, buyers=buyers, product_types=product_types, correlation_id="bench"
        )
        figures["pool_insert_seconds"] = round((timezone.now() - submitted_at).total_seconds(), 2)
        progress("pool", f"COPY committed in {figures['pool_insert_seconds']} s; triggering pooling")

        cpu_before = tree_cpu_seconds(workers.pids)
        triggered_at = timezone.now()
        started = time.monotonic()
        request_pooling()
        finished = wait_for_pooling(args.orders, started, args.pool_timeout)
        worker_cpu = tree_cpu_seconds(workers.pids) - cpu_before
        if args.settle_timeout > 0:
            progress("pool", f"letting follow-up tasks (batch decisions) run, up to {args.settle_timeout:.0f} s")
        figures["pool_followup_backlog"] = settle(timeout=args.settle_timeout)
    finally:
        sampler.stop()
        workers.stop()
        purge_task_queues()  # follow-ups left queued would run in a later phase's workers
    elapsed = (finished - started) if finished else None

    measured = pool_figures(submitted_at)
    last_pooled = measured.pop("_last_pooled_at")
    figures.update(measured)
    figures["pool_timed_out"] = not finished
    figures["pool_seconds"] = round(elapsed, 3) if finished else None
    figures["pool_orders_per_s"] = per_second(args.orders, elapsed) if finished else None
    figures["pool_trigger_to_last_pooled_at_s"] = (
        round((last_pooled - triggered_at).total_seconds(), 3) if last_pooled else None
    )
    figures["pool_worker_cpu_ms_per_order"] = round(worker_cpu * 1000 / args.orders, 3)
    figures["worker_processes"] = args.workers
    figures["worker_concurrency"] = args.concurrency
    figures["worker_peak_rss_mib"] = round(sampler.peak_per_worker_kib / 1024, 1)
    figures["worker_peak_rss_total_mib"] = round(sampler.peak_total_kib / 1024, 1)
    figures["worker_peak_pss_total_mib"] = round(sampler.peak_total_pss_kib / 1024, 1)
    figures["worker_rss_samples"] = sampler.samples

    violations = check_invariants()
    figures["invariants"] = {name: count == 0 for name, count in violations.items()}
    figures["invariants_ok"] = all(count == 0 for count in violations.values()) and bool(finished)
    for name, count in violations.items():
        progress("check", f"{'PASS' if count == 0 else 'FAIL'} {name}" + (f" ({count} violations)" if count else ""))
    if not finished:
        progress("check", f"FAIL pooling did not finish within {args.pool_timeout:.0f}s; see {workers.log_dir}")
    return figures["invariants_ok"]


def wait_for_pooling(total: int, started: float, timeout: float) -> float | None:
    """Poll until no order is left submitted; the monotonic finish time, or None on timeout."""
    from django.db import connection

    last_report = started
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM orders_order WHERE workflow_status = 'submitted'")
            left = cursor.fetchone()[0]
        now = time.monotonic()
        if left == 0:
            return now
        if now - started > timeout:
            return None
        if now - last_report >= 2:
            done = total - left
            progress("pool", f"{done:,}/{total:,} out of submitted, {per_second(done, now - started) or 0:,.0f}/s")
            last_report = now
        time.sleep(0.1)


def settle(timeout: float) -> int:
    """Wait until the queues are empty, at most ``timeout`` s; the messages still queued.

    The invariants hold in every committed state, so they are checked whatever is
    left; waiting only lets the follow-up work show in the memory peak.
    """
    deadline = time.monotonic() + timeout
    while (backlog := queue_backlog()) and time.monotonic() < deadline:
        time.sleep(0.25)
    if backlog:
        progress("pool", f"{backlog:,} follow-up messages still queued; they are dropped (invariants hold regardless)")
    return backlog


def api_user_token() -> str:
    """The bench buyer's API token, from the command an operator would use."""
    from django.core.management import call_command

    out = io.StringIO()
    call_command("create_api_user", "bench-api", role="buyer", stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().split()[-1]


def run_api_phase(args, figures: dict, var_dir: Path) -> bool:
    from django.contrib.auth import get_user_model

    from orders.models import Order
    from orders.selectors import product_catalog_load
    from sleekbatch.processes import purge_task_queues

    token = api_user_token()
    product_types = {rules.product_type: rules.max_styles for rules in product_catalog_load().values()}
    rng = random.Random(args.seed + 1)
    bodies = []
    while len(bodies) < 16:  # small orders only: a direct order takes another path
        body = order_payload(rng, product_types)
        if body["quantity"] not in DIRECT_QUANTITIES:
            bodies.append(body)

    port = free_port()
    env = dict(os.environ, WEB_BIND=f"127.0.0.1:{port}", LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    log_path = var_dir / "bench-gunicorn.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    command = [sys.executable, "-m", "gunicorn", "sleekbatch.wsgi", "-c", str(ROOT / "sleekbatch/gunicorn_conf.py")]
    web = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    api_user = get_user_model().objects.get(username="bench-api")
    conf = runpy.run_path(str(ROOT / "sleekbatch/gunicorn_conf.py"))  # reads the same environment
    web_config = f"{conf['workers']} {conf.get('worker_class', 'sync')} workers × {conf.get('threads', 1)} threads"
    try:
        wait_for_http(port, "/api/health/", web, timeout=30, log_path=log_path)
        wrk = None if args.python_load else find_wrk()
        generator = "wrk" if wrk else "python"
        progress(
            "api",
            f"gunicorn on 127.0.0.1:{port} ({web_config}); Celery workers stopped, "
            f"so the 2 cores serve the web; {generator} with {args.api_connections} connections, "
            f"{args.api_seconds:.0f} s after a {args.api_warmup:.0f} s warm-up",
        )
        if args.api_warmup > 0:
            drive(wrk, port, token, bodies, args, seconds=args.api_warmup)
        figures["api_load_average_before"] = load_average()
        stored_before = Order.objects.filter(buyer=api_user).count()
        cpu_before = tree_cpu_seconds([web.pid])
        result = drive(wrk, port, token, bodies, args, seconds=args.api_seconds)
        web_cpu = tree_cpu_seconds([web.pid]) - cpu_before
        time.sleep(0.5)  # let requests still in flight when the load stopped commit
        stored = Order.objects.filter(buyer=api_user).count() - stored_before
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        try:
            web.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(web.pid, signal.SIGKILL)
            web.wait()
        log.close()
        purge_task_queues()  # the intake enqueued pooling triggers nobody will run

    errors = result["non2xx"] + result["socket_errors"]
    figures.update(
        api_load_generator=generator,
        api_connections=args.api_connections,
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
        progress("api", f"FAIL first non-2xx answer: {result['first_bad']}")
    # Every 2xx answer is a stored order; a few more may be stored by requests cut off at the end.
    answered = result["requests"] - result["non2xx"]
    figures["api_every_accepted_order_stored"] = stored >= answered
    if stored < answered:
        progress("check", f"FAIL {answered:,} orders accepted but only {stored:,} stored")
    return errors == 0 and stored >= answered


def drive(wrk: str | None, port: int, token: str, bodies: list[dict], args, *, seconds: float) -> dict:
    if wrk is None:
        return python_load(
            "127.0.0.1", port, "/api/orders/", token, bodies, clients=args.api_connections, seconds=seconds
        )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(wrk_script(token, bodies))
    try:
        command = [wrk, "-t", str(args.api_threads), "-c", str(args.api_connections), "-d", f"{seconds:.0f}s"]
        command += ["--timeout", "5s", "-s", script.name, f"http://127.0.0.1:{port}/api/orders/"]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    finally:
        os.unlink(script.name)
    if completed.returncode != 0:
        raise SystemExit(f"bench: wrk failed ({completed.returncode}): {completed.stderr.strip()[:500]}")
    return parse_wrk_output(completed.stdout)


def wait_for_http(port: int, path: str, proc: subprocess.Popen, *, timeout: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench: gunicorn exited with {proc.returncode}; see {log_path}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"bench: gunicorn did not answer {path} within {timeout:.0f}s; see {log_path}")


def run_sweep_phase(args, figures: dict) -> bool:
    """Figures from scripts/bench_sweep.py's run(); False if it reports the sweep inconsistent."""
    import importlib.util

    path = ROOT / "scripts" / "bench_sweep.py"
    if not path.exists():
        progress("sweep", "scripts/bench_sweep.py not found: skipped")
        return True
    spec = importlib.util.spec_from_file_location("bench_sweep", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    progress("sweep", f"{args.sweep_open_batches:,} open batches, {args.sweep_due:,} due")
    figures.update(module.run(open_batches=args.sweep_open_batches, due=args.sweep_due))
    if figures.get("sweep_consistent") is False:
        progress("check", f"FAIL sweep side effects: {', '.join(figures.get('sweep_problems', []))}")
        return False
    return True


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000, help="submitted orders to pool (default 100,000)")
    parser.add_argument("--workers", type=int, default=2, help="celery worker processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=1, help="prefork children per worker (default 1)")
    parser.add_argument("--pool-timeout", type=float, default=240, help="give up pooling after this many seconds")
    parser.add_argument(
        "--settle-timeout", type=float, default=10, help="after pooling, let follow-up tasks run this long"
    )
    parser.add_argument("--api-seconds", type=float, default=15, help="measured API load, seconds (default 15)")
    parser.add_argument("--api-warmup", type=float, default=2, help="unmeasured API load first, seconds")
    parser.add_argument("--api-connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--api-threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator, not wrk")
    parser.add_argument("--sweep-open-batches", type=int, default=100_000)
    parser.add_argument("--sweep-due", type=int, default=10_000)
    parser.add_argument("--skip-pool", action="store_true")
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--seed", type=int, default=20240601, help="random seed of the generated orders")
    parser.add_argument("--output", type=Path, help="JSON path (default <VAR_DIR>/bench.json)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed, too")
    parser.add_argument(
        "--allow-any-database",
        action="store_true",
        help="reset a database whose name lacks 'bench' (the bench empties the order and batch tables)",
    )
    args = parser.parse_args(argv)
    if args.orders < 1 or args.workers < 1 or args.concurrency < 1 or args.api_connections < 1:
        parser.error("--orders, --workers, --concurrency and --api-connections must be positive")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    database_url, _ = service_urls()
    database_name = urlsplit(database_url).path.lstrip("/")
    if "bench" not in database_name and not args.allow_any_database:
        raise SystemExit(
            f"bench: refusing to empty database {database_name!r}: use a database named *bench* "
            "(`make bench` uses <PG_URL>_bench) or pass --allow-any-database"
        )

    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sleekbatch.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    created = ensure_database(database_url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from sleekbatch.services_check import ServiceUnavailable, check_broker

    try:
        check_broker()
    except ServiceUnavailable as exc:
        raise SystemExit(f"bench: {exc}")
    var_dir = Path(settings.VAR_DIR)
    output = args.output or var_dir / "bench.json"

    progress("setup", f"database {database_name}{' (created)' if created else ''}: migrate, seed_demo, reset")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())
    reset_bench_data()

    figures: dict = {"timestamp": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine_info()}
    figures["orders"] = 0 if args.skip_pool else args.orders
    ok = True
    for key in ("pool_orders_per_s", "pool_p50_ms", "pool_p95_ms", "worker_peak_rss_mib", "invariants_ok"):
        figures[key] = None
    for key in ("api_requests_per_s", "api_p50_ms", "api_p95_ms", "api_errors"):
        figures[key] = None
    if not args.skip_pool:
        ok &= run_pool_phase(args, figures, var_dir)
    if not args.skip_api:
        ok &= run_api_phase(args, figures, var_dir)
    if not args.skip_sweep:
        reset_bench_data()  # the sweep must see only its own batches, not the pool phase's
        ok &= run_sweep_phase(args, figures)

    figures["goals"] = goal_results(figures)
    write_json(output, figures)
    print("\nsleekbatch bench (PostgreSQL + Redis, real workers)")
    print(render_table(figures))
    print(f"\nfigures written to {output}")
    missed = [name for name, met in figures["goals"].items() if met is False]
    if not ok:
        print("bench: FAILED — an invariant broke or the API answered with errors (see above)", file=sys.stderr)
        return 1
    if missed and args.strict:
        print(f"bench: goals missed: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
