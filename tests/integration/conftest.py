import pytest
from django.conf import settings

from sleekbatch.celery import app
from sleekbatch.processes import purge_task_queues
from tests.integration.workers import WorkerProcesses

SERVICES_MISSING = not (settings.IS_POSTGRES and settings.CELERY_BROKER_URL.startswith("redis"))

if not SERVICES_MISSING:
    # Production stores no task results (nothing reads them); these tests wait for a few,
    # sent with apply_async(ignore_result=False), so this process and its workers use Redis for them.
    app.conf.result_backend = settings.REDIS_URL


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
            if SERVICES_MISSING:
                item.add_marker(
                    pytest.mark.skip(reason="integration tests need PostgreSQL + Redis (`make test` runs them)")
                )


@pytest.fixture
def workers(transactional_db, tmp_path):
    """``workers(count=2, concurrency=2)`` starts real worker processes; stopped after the test."""
    started: list[WorkerProcesses] = []

    def start(count: int = 1, concurrency: int = 1, **env) -> WorkerProcesses:
        purge_task_queues()
        pool = WorkerProcesses(count=count, concurrency=concurrency, log_dir=tmp_path / "workers", extra_env=env)
        started.append(pool)
        return pool.start()

    yield start
    for pool in started:
        pool.stop()
    purge_task_queues()
