"""docker-compose.yml cannot run here (no Docker engine), so it is checked against the Procfile."""

import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def procfile() -> dict[str, str]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_whole_stack():
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "flower"} <= set(services)


def test_every_procfile_process_runs_in_compose_with_the_same_command():
    services = compose()["services"]
    for name, command in procfile().items():
        assert name in services, f"Procfile process {name!r} has no compose service"
        assert shlex.split(services[name]["command"]) == shlex.split(command), name


def test_procfile_has_web_worker_beat_and_flower():
    assert set(procfile()) == {"web", "worker", "beat", "flower"}


def test_compose_app_services_use_the_production_profile():
    services = compose()["services"]
    for name in ("web", "worker", "beat", "flower", "migrate"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://"), name
        assert env["CELERY_BROKER_URL"].startswith("redis://"), name
        assert env["REDIS_URL"].startswith("redis://"), name
        assert set(services[name]["depends_on"]) >= {"postgres", "redis"}, name


def test_the_worker_consumes_every_routed_queue():
    from django.conf import settings

    worker = shlex.split(procfile()["worker"])
    queues = set(worker[worker.index("-Q") + 1].split(","))
    assert queues == set(settings.TASK_QUEUES)
    assert {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} <= queues
