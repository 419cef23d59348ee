"""What a phase gets: ``run(ctx)`` reads its arguments and uses the helpers here."""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import services


def progress_line(phase: str, message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {phase:<9} {message}", flush=True)


@dataclass
class PhaseContext:
    """One phase's view of the run.

    - ``args``: the parsed command line (every phase's ``add_arguments`` included).
    - ``var_dir``: where logs and outputs go (settings.VAR_DIR).
    - ``run_id``: this run (also in bench.json next to each phase's figures).
    - ``progress(message)``: a timestamped progress line under the phase's name.
    - ``fail(message)``: record a broken invariant; the run exits 1 after every phase.
    - ``reset_bench_data()``: empty the order/batch tables and the task queues.
    - ``start_workers()`` / ``stop_workers(workers)``: real Celery worker processes.
    - ``queue_backlog()``: messages waiting in the task queues.
    """

    name: str
    args: argparse.Namespace
    var_dir: Path
    run_id: str
    failures: list[str] = field(default_factory=list)

    def progress(self, message: str) -> None:
        progress_line(self.name, message)

    def fail(self, message: str) -> None:
        self.failures.append(message)
        progress_line("check", f"FAIL {message}")

    @staticmethod
    def reset_bench_data() -> None:
        services.reset_bench_data()

    @staticmethod
    def queue_backlog() -> int:
        return services.queue_backlog()

    def start_workers(self, count: int | None = None, concurrency: int | None = None):
        """``count`` × ``concurrency`` workers (default --workers × --concurrency), ready to consume."""
        from sleekbatch.processes import CeleryWorkers

        workers = CeleryWorkers(
            count=count or self.args.workers,
            concurrency=concurrency or self.args.concurrency,
            log_dir=self.var_dir / f"bench-workers-{self.name}",
            env=dict(os.environ, LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1"),
            name_prefix=f"bench-{self.name}-",
        )
        self.progress(f"starting {workers.count} worker process(es) × concurrency {workers.concurrency}")
        try:
            return workers.start()
        except (RuntimeError, TimeoutError) as exc:
            workers.stop()
            raise SystemExit(f"bench: {exc}") from None

    @staticmethod
    def stop_workers(workers) -> None:
        """Stop them and drop what they left queued (it would run in a later phase's workers)."""
        from sleekbatch.processes import purge_task_queues

        workers.stop()
        purge_task_queues()
