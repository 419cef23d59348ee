"""Outside DEBUG and the embedded default, no process starts on a key anyone can read."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sleekbatch.settings import EMBEDDED_SECRET_KEY, secret_key_problem

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {"DATABASE_URL": "postgres://nobody@127.0.0.1:1/sleekbatch"}
GOOD_KEY = "k3y-" + "".join(chr(ord("a") + n % 26) for n in range(60))


def start(command: list[str], **env) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY", "DEBUG"}}
    full_env.update(env)
    return subprocess.run(command, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60)


MANAGE_CHECK = [sys.executable, "manage.py", "check"]


@pytest.mark.parametrize(
    "key, problem",
    [
        (None, "SECRET_KEY is not set"),
        ("change-me", "SECRET_KEY is a placeholder"),
        (EMBEDDED_SECRET_KEY, "SECRET_KEY is a placeholder"),
        ("django-insecure-" + "x1y2z3" * 10, "SECRET_KEY is a placeholder"),
        ("short-but-random-Qx81", "SECRET_KEY is too short"),
        ("a" * 80, "SECRET_KEY is too short"),
    ],
    ids=["unset", "compose's change-me", "the repository's key", "django-insecure", "short", "one character"],
)
def test_the_production_profile_refuses_an_insecure_key_in_one_line(key, problem):
    env = dict(PRODUCTION, **({"SECRET_KEY": key} if key is not None else {}))

    result = start(MANAGE_CHECK, **env)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip().splitlines()[0]]
    assert result.stderr.startswith(f"sleekbatch: configuration error: {problem}")


def test_a_random_key_of_fifty_characters_is_accepted():
    assert secret_key_problem(GOOD_KEY) is None
    assert start(MANAGE_CHECK, SECRET_KEY=GOOD_KEY, **PRODUCTION).returncode == 0


def test_debug_and_the_embedded_default_run_on_the_repository_key(tmp_path):
    assert start(MANAGE_CHECK, DEBUG="1", **PRODUCTION).returncode == 0
    assert start(MANAGE_CHECK, SLEEKBATCH_VAR_DIR=str(tmp_path)).returncode == 0


def test_gunicorn_refuses_to_start_with_one_line():
    command = [sys.executable, "-m", "gunicorn", "sleekbatch.wsgi", "-c", "sleekbatch/gunicorn_conf.py"]

    result = start(command, WEB_BIND="127.0.0.1:0", **PRODUCTION)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "sleekbatch: configuration error: SECRET_KEY is not set" in result.stderr
    assert "Booting worker" not in result.stderr


def test_a_celery_worker_refuses_to_start_with_one_line():
    result = start([sys.executable, "-m", "celery", "-A", "sleekbatch", "worker", "--pool", "solo"], **PRODUCTION)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip() == result.stderr.strip().splitlines()[0]
    assert "sleekbatch: configuration error: SECRET_KEY is not set" in result.stderr
