"""/metrics under two web processes while a real worker runs tasks: both answer the same."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from analytics import task_metrics
from analytics.models import JobRun
from batches.tasks import orchestrate_batches
from sleekbatch.processes import stop_process_groups
from sleekbatch.tasks import ping
from tests.integration.workers import database_url_for_test_db

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scrape-it-456"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def two_web_processes(transactional_db, tmp_path, settings):
    """Two gunicorn processes (one worker each) on the test database and Redis; their base URLs."""
    env = dict(
        os.environ,
        DATABASE_URL=database_url_for_test_db(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        REDIS_URL=settings.REDIS_URL,
        SLEEKBATCH_METRICS_TOKEN=TOKEN,
        WEB_WORKERS="1",
        LOG_LEVEL="WARNING",
    )
    procs, urls = [], []
    for index in range(2):
        port = _free_port()
        log = open(tmp_path / f"web{index}.log", "w")  # noqa: SIM115 - lives as long as the process
        command = [sys.executable, "-m", "gunicorn", "sleekbatch.wsgi", "-c", "sleekbatch/gunicorn_conf.py"]
        procs.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env={**env, "WEB_BIND": f"127.0.0.1:{port}"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            _wait_until_answering(url)
        yield urls
    finally:
        stop_process_groups(procs)


def _wait_until_answering(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/health/", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer")


def scrape(url: str) -> dict:
    request = urllib.request.Request(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def task_samples(samples: dict) -> dict:
    return {key: value for key, value in samples.items() if key[0].startswith("celery_task_")}


def find(samples: dict, metric: str, **labels) -> float:
    """The sum over the samples of ``metric`` whose labels include ``labels``."""
    return sum(
        value
        for (name, sample_labels), value in samples.items()
        if name == metric and labels.items() <= dict(sample_labels).items()
    )


def test_two_web_processes_report_the_same_task_metrics_from_a_real_worker(workers, two_web_processes):
    # given: clean counters and a real worker
    client = task_metrics.metrics_client()
    client.delete(*(client.keys(task_metrics.PREFIX + "*") or [task_metrics.PREFIX]))
    pool = workers(count=1, concurrency=1)

    # when: three pings succeed and one orchestration fails for good (ids that are not UUIDs)
    for index in range(3):
        ping.delay(f"t{index}")
    orchestrate_batches.delay(["not-a-uuid"])
    deadline = time.monotonic() + 60
    while JobRun.objects.count() < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert JobRun.objects.count() == 4

    # then: both web processes serve the same task figures
    first, second = (scrape(url) for url in two_web_processes)
    assert task_samples(first) == task_samples(second)
    samples = first
    for counter in ("sent", "received", "started", "succeeded"):
        assert find(samples, f"celery_task_{counter}_total", name="sleekbatch.ping", queue_name="orders") == 3, counter
    assert (
        find(samples, "celery_task_failed_total", name="batches.orchestrate_batches", exception="ValidationError") == 1
    )
    assert find(samples, "celery_task_runtime_count", name="sleekbatch.ping", hostname=pool.names[0]) == 3
    assert find(samples, "celery_task_queue_wait_time_count", name="sleekbatch.ping", queue_name="orders") == 3
    assert 0 < find(samples, "celery_task_queue_wait_time_sum", name="sleekbatch.ping") < 60
    assert find(samples, "celery_worker_up", hostname=pool.names[0]) == 1
    assert find(samples, "celery_queue_length", queue_name="orders") == 0
