"""Real Celery worker processes for integration tests.

They run ``celery -A sleekbatch worker`` against the test session's PostgreSQL
database and the Redis broker from the environment, exactly as in production.
"""

import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from sleekbatch.processes import CeleryWorkers

ROOT = Path(__file__).resolve().parents[2]


def database_url_for_test_db() -> str:
    db = connection.settings_dict  # NAME is the test database by now
    user = quote(db.get("USER") or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class WorkerProcesses(CeleryWorkers):
    """Workers against the test session's database (PostgreSQL) and the broker from the environment."""

    def __init__(self, count: int = 1, concurrency: int = 1, log_dir: Path | None = None, extra_env=None):
        env = dict(os.environ)
        env.update(
            DATABASE_URL=database_url_for_test_db(),
            CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
            REDIS_URL=settings.REDIS_URL,
            # The tests read some results (production stores none): see tests/integration/conftest.py.
            CELERY_RESULT_BACKEND=settings.REDIS_URL,
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="WARNING",
        )
        env.update(extra_env or {})
        super().__init__(
            count=count,
            concurrency=concurrency,
            log_dir=log_dir or ROOT / "var" / "test-workers",
            env=env,
            name_prefix="test",
        )

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
