"""HTTP load: wrk with bench/post_orders.lua (or a Python fallback), and gunicorn under test."""

from __future__ import annotations

import contextlib
import http.client
import json
import multiprocessing
import os
import re
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.results import per_second, percentile

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent
WRK_SCRIPT = PACKAGE_DIR / "post_orders.lua"


def parse_wrk_output(text: str) -> dict:
    """Figures from the BENCH_JSON line that post_orders.lua's ``done()`` prints."""
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


def find_wrk(install: bool = True, progress=print) -> str | None:
    """wrk on PATH; installed from Debian's packages when running as root."""
    if shutil.which("wrk") or not install or os.geteuid() != 0 or not shutil.which("apt-get"):
        return shutil.which("wrk")
    progress("wrk missing: apt-get install -y wrk")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install_wrk = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install_wrk, env=env, capture_output=True, check=False).returncode != 0:
        # A fresh machine has no package lists yet.
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, check=False)
        subprocess.run(install_wrk, env=env, capture_output=True, check=False)
    return shutil.which("wrk")


def run_wrk(
    wrk: str, url: str, *, tokens: list[str], bodies: list[dict], threads: int, connections: int, seconds: float
) -> dict:
    """One closed-loop wrk run POSTing ``bodies`` with ``tokens`` in rotation; parse_wrk_output's figures."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        bodies_path, tokens_path = Path(tmp, "bodies.jsonl"), Path(tmp, "tokens.txt")
        bodies_path.write_text("".join(json.dumps(body) + "\n" for body in bodies))
        tokens_path.write_text("".join(token + "\n" for token in tokens))
        command = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds:.0f}s", "--timeout", "5s"]
        command += ["-s", str(WRK_SCRIPT), url, "--", str(bodies_path), str(tokens_path)]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr.strip()[:500]}")
    return parse_wrk_output(completed.stdout)


def _python_load_client(args) -> tuple[list[float], int, str]:
    """One load process: keep-alive POSTs until the deadline; latencies in ms."""
    host, port, path, tokens, bodies, deadline, offset = args
    latencies: list[float] = []
    bad, first_bad, index = 0, "", offset
    conn = http.client.HTTPConnection(host, port, timeout=10)
    while time.monotonic() < deadline:
        body = bodies[index % len(bodies)]
        headers = {"Content-Type": "application/json", "Authorization": f"Token {tokens[index % len(tokens)]}"}
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


def python_load(
    host: str, port: int, path: str, tokens: list[str], bodies: list[dict], *, clients: int, seconds: float
) -> dict:
    """Fallback load generator: ``clients`` processes, closed loop, bounded in time."""
    encoded = [json.dumps(body) for body in bodies]
    started = time.monotonic()
    deadline = started + seconds
    jobs = [(host, port, path, tokens, encoded, deadline, client * 7919) for client in range(clients)]
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        results = pool.map(_python_load_client, jobs)
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


class Gunicorn:
    """gunicorn with sleekbatch/gunicorn_conf.py on a free loopback port, in its own process group.

    ``env`` adds to the environment (e.g. a setting that mounts a bench-only view).
    """

    def __init__(self, log_path: Path, env: dict | None = None):
        self.port = free_port()
        self.log_path = log_path
        self.env = dict(os.environ, WEB_BIND=f"127.0.0.1:{self.port}", LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
        self.env.update(env or {})
        self.proc: subprocess.Popen | None = None
        conf_path = ROOT / "sleekbatch" / "gunicorn_conf.py"
        self.command = [sys.executable, "-m", "gunicorn", "sleekbatch.wsgi", "-c", str(conf_path)]
        saved = dict(os.environ)
        try:  # gunicorn_conf.py reads the environment: evaluate it with the server's
            os.environ.update(self.env)
            conf = runpy.run_path(str(conf_path))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.config = f"{conf['workers']} {conf.get('worker_class', 'sync')} workers × {conf.get('threads', 1)} threads"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Gunicorn:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            self.wait_for_http("/api/health/", timeout=30)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()

    def wait_for_http(self, path: str, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log_path}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", path)
                if conn.getresponse().status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer {path} within {timeout:.0f}s; see {self.log_path}")


# --- fixed-rate (open-loop) load ---------------------------------------------------------


async def _http_post(pool: _ConnectionPool, path: str, body: bytes, token: str) -> tuple[int, bytes]:
    """One POST on a pooled connection; (status, body). Reconnects when the server closed it."""
    reader, writer = await pool.checkout()
    keep = False
    try:
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {pool.host}:{pool.port}\r\nContent-Type: application/json\r\n"
            f"Authorization: Token {token}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        writer.write(request)
        await writer.drain()
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionError("connection closed before the answer")
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        payload = await reader.readexactly(length) if length else b""
        keep = not close
        return status, payload
    finally:
        pool.checkin(reader, writer, keep=keep)


class _ConnectionPool:
    """Up to ``size`` keep-alive connections; a closed one is reopened on the next checkout."""

    def __init__(self, host: str, port: int, size: int):
        import asyncio

        self.host, self.port = host, port
        self.idle: asyncio.Queue = asyncio.Queue()
        for _ in range(size):
            self.idle.put_nowait(None)

    async def checkout(self):
        import asyncio

        connection = await self.idle.get()
        if connection is None:
            try:
                connection = await asyncio.open_connection(self.host, self.port)
            except OSError:
                self.idle.put_nowait(None)
                raise
        return connection

    def checkin(self, reader, writer, *, keep: bool) -> None:
        if keep:
            self.idle.put_nowait((reader, writer))
        else:
            writer.close()
            self.idle.put_nowait(None)

    def close(self) -> None:
        while not self.idle.empty():
            connection = self.idle.get_nowait()
            if connection is not None:
                connection[1].close()


async def _fixed_rate(
    host: str, port: int, path: str, tokens: list[str], bodies: list[bytes], rate: float, seconds: float, size: int
) -> dict:
    import asyncio

    pool = _ConnectionPool(host, port, size)
    total = int(rate * seconds)
    latencies: list[float] = []
    lateness: list[float] = []
    bad = {"count": 0, "first": ""}

    async def one(index: int, scheduled: float) -> None:
        try:
            status, payload = await _http_post(pool, path, bodies[index % len(bodies)], tokens[index % len(tokens)])
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
            bad["count"] += 1
            bad["first"] = bad["first"] or repr(exc)
            return
        # From the scheduled send, so time spent waiting for a free connection counts too.
        latencies.append((time.perf_counter() - scheduled) * 1000)
        if not 200 <= status < 300:
            bad["count"] += 1
            bad["first"] = bad["first"] or f"{status} {payload[:200]!r}"

    started = time.perf_counter()
    tasks = []
    for index in range(total):
        scheduled = started + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        lateness.append(max(0.0, time.perf_counter() - scheduled) * 1000)
        tasks.append(asyncio.create_task(one(index, scheduled)))
    sent_seconds = time.perf_counter() - started
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    pool.close()
    return {
        "requests": total,
        "answered": len(latencies),
        "seconds": round(elapsed, 3),
        "send_seconds": round(sent_seconds, 3),
        "requests_per_s": per_second(total, sent_seconds),
        # What the server kept up with: answers over the whole run (send + the queue it built).
        "answered_per_s": per_second(len(latencies), elapsed),
        "p50_ms": round(percentile(latencies, 0.50) or 0, 2),
        "p95_ms": round(percentile(latencies, 0.95) or 0, 2),
        "p99_ms": round(percentile(latencies, 0.99) or 0, 2),
        "max_ms": round(max(latencies, default=0), 2),
        "send_lateness_p95_ms": round(percentile(lateness, 0.95) or 0, 2),
        "non2xx": bad["count"],
        "first_bad": bad["first"] or None,
    }


def fixed_rate_load(
    host: str,
    port: int,
    path: str,
    tokens: list[str],
    bodies: list[dict],
    *,
    rate: float,
    seconds: float,
    connections: int = 64,
) -> dict:
    """POST ``rate`` requests per second for ``seconds``, on schedule whatever the answers take (open loop).

    Request n is due at start + n / rate; it goes out on a free connection of at most
    ``connections``. Latency counts from when it was due, so a server that falls behind
    shows in the percentiles instead of slowing the load down (no coordinated omission).
    """
    import asyncio

    encoded = [json.dumps(body).encode() for body in bodies]
    return asyncio.run(_fixed_rate(host, port, path, tokens, encoded, rate, seconds, connections))
