"""Child processes started in their own session (demo, bench, integration tests)."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def signal_stop(procs: list[subprocess.Popen]) -> None:
    """SIGTERM the leader of each process still running: a warm shutdown (see stop_process_groups)."""
    for proc in procs:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)


def stop_process_groups(procs: list[subprocess.Popen], timeout: float = 30) -> None:
    """Stop each process with SIGTERM to its leader only (a warm shutdown), SIGKILL to its whole
    group for what outlives the timeout.

    The leader (a Celery worker's main process, gunicorn's master) stops its own children. Signalling
    the whole group killed a worker's prefork children while one held the pool's queue lock, and the
    worker's exit then blocked on that lock until the SIGKILL, 30 s later (billiard's
    ``_help_stuff_finish``).
    """
    signal_stop(procs)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # a child the leader left behind


class CeleryWorkers:
    """Real ``celery worker`` processes, each its own process group (integration tests, bench).

    ``env`` is the whole environment of the workers: which database, broker and cache
    they use is the caller's choice. They consume every queue of settings.TASK_QUEUES.
    """

    def __init__(self, *, count: int, concurrency: int, log_dir: Path, env: dict, name_prefix: str):
        self.count = count
        self.concurrency = concurrency
        self.log_dir = log_dir
        self.env = env
        self.name_prefix = name_prefix
        self.procs: list[subprocess.Popen] = []
        self.names: list[str] = []

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self.procs]

    def start(self, timeout: float = 60) -> "CeleryWorkers":
        """Start them and return once every one answers a ping (RuntimeError/TimeoutError otherwise)."""
        from django.conf import settings

        self.log_dir.mkdir(parents=True, exist_ok=True)
        for index in range(self.count):
            name = f"{self.name_prefix}{index}-{os.getpid()}@localhost"
            log = open(self.log_dir / f"worker{index}.log", "w")  # noqa: SIM115 - lives as long as the worker
            command = [sys.executable, "-m", "celery", "-A", "sleekbatch", "worker"]
            command += ["-Q", ",".join(settings.TASK_QUEUES), "-n", name, "--concurrency", str(self.concurrency)]
            command += ["-P", "prefork", "--without-gossip", "--without-mingle"]
            self.procs.append(
                subprocess.Popen(
                    command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
            self.names.append(name)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        from sleekbatch.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"a worker exited with {proc.returncode}; see {self.log_dir}")
            if len(app.control.ping(destination=self.names, timeout=1.0) or []) == len(self.names):
                return
        raise TimeoutError(f"workers did not answer a ping within {timeout:.0f}s; see {self.log_dir}")

    def stop(self, timeout: float = 30) -> None:
        stop_process_groups(self.procs, timeout)
        self.procs.clear()


def purge_task_queues() -> None:
    """Drop every message waiting in the task queues (before and after a run of real workers)."""
    from django.conf import settings

    from sleekbatch.celery import app

    with app.connection_for_write() as conn:
        for queue in settings.TASK_QUEUES:
            with contextlib.suppress(Exception):  # a queue never declared holds nothing
                conn.default_channel.queue_purge(queue)
