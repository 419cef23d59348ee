"""The chaos suite's own stack: a throwaway PostgreSQL cluster and Redis on free ports, and real
gunicorn, Celery workers and beat processes against them, each of which a scenario may stop,
kill or restart. Nothing here touches the machine's shared PostgreSQL, Redis or RabbitMQ
(RabbitMQ is used only through a vhost of the suite's own, deleted afterwards).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import redis
from celery import Celery

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("SLEEKBATCH_CHAOS_PG_BIN", "/usr/lib/postgresql/15/bin"))  # Debian's PostgreSQL 15
QUEUES = "orders,orchestration,analytics,reports"


def progress(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            value = predicate()
            if value:
                return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


class ThrowawayPostgres:
    """A PostgreSQL 15 cluster in a temporary folder (initdb + pg_ctl; as ``postgres`` when run as root)."""

    def __init__(self, base: Path):
        self.dir = base / "pg"
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *command], capture_output=True, text=True, check=check, timeout=120)

    def create(self) -> ThrowawayPostgres:
        self.dir.mkdir(parents=True)
        if self.as_user:
            postgres = pwd.getpwnam("postgres")
            os.chown(self.dir, postgres.pw_uid, postgres.pw_gid)
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE sleekbatch_chaos")
        return self

    def url(self, database: str = "sleekbatch_chaos") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        # fsync off: a throwaway cluster, stopped cleanly by the scenarios; the disk is shared with others.
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url(), autocommit=True, connect_timeout=3)

    def destroy(self) -> None:
        self.stop("immediate")


class ThrowawayRedis:
    """redis-server on a free port with an append-only file, as docker-compose runs it."""

    def __init__(self, base: Path):
        self.dir = base / "redis"
        self.dir.mkdir(parents=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)]
        command += ["--appendonly", "yes", "--save", "", "--protected-mode", "no"]
        log = open(self.dir / "log", "a")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: self.client(0).ping(), timeout=20, what="the chaos Redis")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.proc = None

    def client(self, db: int) -> redis.Redis:
        return redis.Redis.from_url(self.url(db), socket_timeout=3, socket_connect_timeout=3)


class RabbitVhost:
    """A vhost of the suite's own on the machine's RabbitMQ, deleted afterwards."""

    def __init__(self):
        self.name = f"sleekbatch-chaos-{uuid.uuid4().hex[:8]}"

    def __enter__(self) -> RabbitVhost:
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", self.name], check=True, capture_output=True, timeout=60)
        subprocess.run(
            ["rabbitmqctl", "-q", "set_permissions", "-p", self.name, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return self

    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:5672/{self.name}"

    def __exit__(self, *exc) -> None:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", self.name], check=False, capture_output=True, timeout=60)


class Processes:
    """Real gunicorn, ``celery worker`` and ``celery beat`` processes, each in its own process group."""

    def __init__(self, env: dict, log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.web: subprocess.Popen | None = None
        self.web_port = free_port()
        self.workers: dict[str, subprocess.Popen] = {}
        self.beats: list[subprocess.Popen] = []
        self._starts = 0

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        self._starts += 1
        log = open(self.log_dir / f"{name}.log", "a")  # noqa: SIM115 - lives as long as the process
        return subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def manage(self, *args: str) -> str:
        completed = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        if completed.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")
        return completed.stdout

    # --- web -----------------------------------------------------------------------

    def start_web(self) -> None:
        env_bind = ["env", f"WEB_BIND=127.0.0.1:{self.web_port}", "WEB_WORKERS=3"]
        command = [*env_bind, sys.executable, "-m", "gunicorn", "sleekbatch.wsgi", "-c", "sleekbatch/gunicorn_conf.py"]
        self.web = self._spawn("web", command)
        wait_for(self._web_answers, timeout=60, what="gunicorn")

    def _web_answers(self) -> bool:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=2)
        try:
            conn.request("GET", "/api/health/")
            return conn.getresponse().status in (200, 503)
        finally:
            conn.close()

    # --- workers --------------------------------------------------------------------

    def start_worker(self, name: str, concurrency: int = 2) -> None:
        command = [sys.executable, "-m", "celery", "-A", "sleekbatch", "worker", "-Q", QUEUES]
        command += ["-n", f"{name}@chaos", "--concurrency", str(concurrency), "-l", "info"]
        self.workers[name] = self._spawn(name, command)

    def wait_workers_ready(self, timeout: float = 60) -> None:
        names = [f"{name}@chaos" for name in self.workers]
        control = Celery(broker=self.env["CELERY_BROKER_URL"])
        try:
            wait_for(
                lambda: len(control.control.ping(destination=names, timeout=1.0) or []) == len(names),
                timeout=timeout,
                what=f"workers {', '.join(names)}",
            )
        finally:
            control.close()

    def worker_children(self, name: str) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.workers[name].pid)], capture_output=True, text=True, check=False)
        return [int(pid) for pid in out.stdout.split()]

    def kill_worker_children(self, name: str) -> list[int]:
        """SIGKILL the worker's prefork children (they die mid-task; the parent forks new ones)."""
        killed = []
        for pid in self.worker_children(name):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        return killed

    def kill_worker(self, name: str) -> None:
        """SIGKILL the whole worker, parent and children: nothing is acknowledged or cleaned up."""
        proc = self.workers.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    # --- beat -----------------------------------------------------------------------

    def start_beat(self) -> None:
        index = len(self.beats)
        schedule = self.log_dir / f"beat{index}-schedule"
        command = [sys.executable, "-m", "celery", "-A", "sleekbatch", "beat", "-l", "info", "-s", str(schedule)]
        self.beats.append(self._spawn(f"beat{index}", command))

    def stop_beats(self) -> None:
        self._stop(self.beats)
        self.beats = []

    # --- all --------------------------------------------------------------------------

    def _stop(self, procs: list[subprocess.Popen]) -> None:
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def stop_all(self) -> None:
        self._stop([p for p in [self.web, *self.workers.values(), *self.beats] if p is not None])
        self.web, self.workers, self.beats = None, {}, []


def make_base_dir() -> Path:
    base = Path(tempfile.mkdtemp(prefix="sleekbatch-chaos-"))
    os.chmod(base, 0o755)  # the postgres user must reach its cluster folder inside
    return base


def remove_base_dir(base: Path) -> None:
    shutil.rmtree(base, ignore_errors=True)
