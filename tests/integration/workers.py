"""Real Celery worker processes for integration tests.

They run ``celery -A sleekbatch worker`` against the test session's PostgreSQL
database and the Redis broker from the environment, exactly as in production.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from sleekbatch.celery import app
from sleekbatch.processes import stop_process_groups

ROOT = Path(__file__).resolve().parents[2]
QUEUES = "orders,orchestration,analytics,reports"


def database_url_for_test_db() -> str:
    db = connection.settings_dict  # NAME is the test database by now
    user = quote(db.get("USER") or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def purge_queues() -> None:
    with app.connection_for_write() as conn:
        for queue in QUEUES.split(","):
            try:
                conn.default_channel.queue_purge(queue)
            except Exception:  # a queue that was never declared has nothing to purge
                pass


class WorkerProcesses:
    def __init__(self, count: int = 1, concurrency: int = 1, log_dir: Path | None = None, extra_env=None):
        self.count = count
        self.concurrency = concurrency
        self.log_dir = log_dir or ROOT / "var" / "test-workers"
        self.extra_env = extra_env or {}
        self.procs: list[subprocess.Popen] = []
        self.names: list[str] = []

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=database_url_for_test_db(),
            CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
            REDIS_URL=settings.REDIS_URL,
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="WARNING",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60) -> "WorkerProcesses":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = self.env()
        for index in range(self.count):
            name = f"test{index}-{os.getpid()}@localhost"
            log = open(self.log_dir / f"worker{index}.log", "w")  # noqa: SIM115 - closed with the process
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "sleekbatch",
                    "worker",
                    "-Q",
                    QUEUES,
                    "-n",
                    name,
                    "--concurrency",
                    str(self.concurrency),
                    "-P",
                    "prefork",
                    "--without-gossip",
                    "--without-mingle",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.procs.append(proc)
            self.names.append(name)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"worker exited with {proc.returncode}; see {self.log_dir}")
            replies = app.control.ping(destination=self.names, timeout=1.0) or []
            if len(replies) == len(self.names):
                return
        raise TimeoutError(f"workers not ready after {timeout}s; see {self.log_dir}")

    def stop(self, timeout: float = 30) -> None:
        stop_process_groups(self.procs, timeout)
        self.procs.clear()

    def kill_one_child(self) -> int:
        """SIGKILL one prefork child of the first worker (a worker dying mid-task)."""
        children = subprocess.run(
            ["pgrep", "-P", str(self.procs[0].pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        pid = int(children[0])
        os.kill(pid, signal.SIGKILL)
        return pid


def wait_until(predicate, timeout: float = 60, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
