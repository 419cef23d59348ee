"""The chaos suite: run by `make chaos` (SLEEKBATCH_CHAOS=1), skipped by the ordinary test run."""

import os
import secrets
import time

import pytest

from tests.chaos.stack import (
    Processes,
    ThrowawayPostgres,
    ThrowawayRedis,
    make_base_dir,
    progress,
    remove_base_dir,
)

CHAOS = os.environ.get("SLEEKBATCH_CHAOS") == "1"
BUYERS = 8
# Periodic jobs that matter to recovery run every few seconds here, so that a scenario of
# a minute sees several runs of them (and two beats racing).
FAST_PERIODIC_JOBS = ("orchestrate batches", "recover submitted orders")
FAST_PERIOD_SECONDS = 5
# Batches close while a scenario runs, so that sweeps confirm, review and cancel (with refunds).
BATCH_WINDOW_SECONDS = 20


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/chaos" in str(item.fspath):
            item.add_marker(pytest.mark.chaos)
            if not CHAOS:
                item.add_marker(pytest.mark.skip(reason="injects faults into its own stack: run by `make chaos`"))


# Variables of the caller's shell that must not leak into the stack's processes.
_SERVICE_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CELERY_RESULT_BACKEND", "SLEEKBATCH_VAR_DIR")


class ChaosStack:
    def __init__(self, base, pg: ThrowawayPostgres, redis: ThrowawayRedis):
        self.base = base
        self.pg = pg
        self.redis = redis
        self.var_dir = base / "var"
        self.mail_dir = self.var_dir / "mail"
        self.tokens: list[str] = []
        self.processes: Processes | None = None
        self._db = None

    def env(self, broker_url: str | None = None) -> dict:
        env = {key: value for key, value in os.environ.items() if key not in _SERVICE_VARIABLES}
        env.update(
            DATABASE_URL=self.pg.url(),
            CELERY_BROKER_URL=broker_url or self.redis.url(0),
            REDIS_URL=self.redis.url(1),
            SLEEKBATCH_VAR_DIR=str(self.var_dir),
            SECRET_KEY=secrets.token_urlsafe(50),
            SLEEKBATCH_BATCH_WINDOW_SECONDS=str(BATCH_WINDOW_SECONDS),
            # Smaller claims make a drain last long enough to be killed in the middle of it.
            SLEEKBATCH_POOLING_CLAIM_CHUNK="100",
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="INFO",
        )
        return env

    @property
    def db(self):
        if self._db is None or self._db.closed or self._db.broken:
            self._db = self.pg.connect()
        return self._db

    def reconnect(self) -> None:
        if self._db is not None:
            self._db.close()
        self._db = None

    def prepare(self) -> None:
        processes = Processes(self.env(), self.base / "logs" / "setup")
        progress("migrate, seed_demo, setup_periodic_tasks …")
        processes.manage("migrate", "--noinput", "-v0")
        processes.manage("seed_demo")
        processes.manage("setup_periodic_tasks")
        self.tokens = [
            processes.manage("create_api_user", f"chaos-buyer{i}", "--role", "buyer").strip().splitlines()[-1]
            for i in range(BUYERS)
        ]
        with self.pg.connect() as db:
            interval = db.execute(
                "INSERT INTO django_celery_beat_intervalschedule (every, period) VALUES (%s, 'seconds') RETURNING id",
                [FAST_PERIOD_SECONDS],
            ).fetchone()[0]
            db.execute(
                "UPDATE django_celery_beat_periodictask SET interval_id = %s WHERE name = ANY(%s)",
                [interval, list(FAST_PERIODIC_JOBS)],
            )

    def reset(self) -> None:
        """Empty the order, batch and job tables, the Redis of the stack, and the mail folder."""
        self.db.execute(
            "TRUNCATE orders_order, orders_bulksubmission, batches_productionbatch, analytics_jobrun CASCADE"
        )
        self.redis.client(0).flushall()
        for path in self.mail_dir.glob("*") if self.mail_dir.exists() else []:
            path.unlink()

    def start(self, scenario: str, *, workers: int = 2, beats: int = 1, broker_url: str | None = None) -> Processes:
        self.stop()
        self.reset()
        progress(f"{scenario}: starting gunicorn, {workers} workers, {beats} beat(s)")
        self.processes = Processes(self.env(broker_url), self.base / "logs" / scenario)
        self.processes.start_web()
        for index in range(workers):
            self.processes.start_worker(f"w{index}")
        for _ in range(beats):
            self.processes.start_beat()
        self.processes.wait_workers_ready()
        return self.processes

    def stop(self) -> None:
        if self.processes is not None:
            self.processes.stop_all()
            self.processes = None


@pytest.fixture(scope="session")
def stack():
    started = time.monotonic()
    base = make_base_dir()
    pg = ThrowawayPostgres(base)
    redis = ThrowawayRedis(base)
    chaos = ChaosStack(base, pg, redis)
    try:
        progress(f"throwaway PostgreSQL on port {pg.port}, Redis on port {redis.port}, in {base}")
        pg.create()
        redis.start()
        chaos.prepare()
        progress(f"stack ready in {time.monotonic() - started:.0f}s")
        yield chaos
    finally:
        chaos.stop()
        if chaos._db is not None:
            chaos._db.close()
        redis.stop()
        pg.destroy()
        if os.environ.get("SLEEKBATCH_CHAOS_KEEP"):
            progress(f"logs kept in {base / 'logs'}")
        else:
            remove_base_dir(base)
