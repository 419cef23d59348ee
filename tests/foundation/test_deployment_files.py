"""docker-compose.yml cannot run here (no Docker engine), so it is checked against the Procfile."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
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


def test_the_image_leaves_out_local_state_and_runs_unprivileged():
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", "var", ".git"} <= ignored
    dockerfile = (ROOT / "Dockerfile").read_text().splitlines()
    users = [line.split()[1] for line in dockerfile if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    assert any("collectstatic" in line for line in dockerfile), "static files are collected into the image"


def test_web_and_worker_have_health_checks():
    services = compose()["services"]
    assert "/api/health/" in " ".join(services["web"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])


def test_no_secret_has_a_default_in_compose():
    text = (ROOT / "docker-compose.yml").read_text()
    for variable in ("SECRET_KEY", "SLEEKBATCH_FIELD_KEYS", "POSTGRES_PASSWORD", "FLOWER_BASIC_AUTH"):
        assert f"${{{variable}:?" in text, f"{variable} must be required, not defaulted"
        assert f"${{{variable}:-" not in text
    assert "sleekbatch:sleekbatch@" not in text


def test_flower_is_behind_basic_auth_and_on_loopback_only():
    flower = compose()["services"]["flower"]
    assert all(str(port).startswith("127.0.0.1:") for port in flower["ports"])
    assert "FLOWER_BASIC_AUTH" in flower["environment"]


@pytest.mark.parametrize(
    ("credentials", "starts"), [("", False), ("ops", False), (":secret", False), ("ops:s3cret", True)]
)
def test_flower_refuses_to_start_without_credentials(credentials, starts):
    env = {**os.environ, "FLOWER_BASIC_AUTH": credentials}
    code = "import runpy; print(runpy.run_path('flowerconfig.py')['basic_auth'])"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert (result.returncode == 0) == starts, result.stderr
    if starts:
        assert result.stdout.strip() == "['ops:s3cret']"
    else:
        assert "FLOWER_BASIC_AUTH" in result.stderr


def test_static_files_are_served_by_the_app():
    from django.conf import settings

    assert "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE
