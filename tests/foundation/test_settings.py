import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"}}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60
    )


def test_an_unreachable_database_is_one_clear_line_not_a_traceback():
    result = run_manage("migrate", DATABASE_URL="postgres://nobody@127.0.0.1:1/sleekbatch")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("sleekbatch: database unreachable (postgresql 127.0.0.1:1/sleekbatch)")


def test_an_invalid_database_url_is_a_clear_configuration_error():
    result = run_manage("check", DATABASE_URL="mysql://root@localhost/x")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "sleekbatch: configuration error: DATABASE_URL: unsupported engine" in result.stderr


def test_a_database_that_does_not_exist_is_named_as_such():
    result = run_manage("migrate", DATABASE_URL="postgres://postgres@127.0.0.1:5432/sb_no_such_database_xyz")
    if "does not exist" not in result.stderr and "unreachable" in result.stderr:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "sleekbatch: database 'sb_no_such_database_xyz' does not exist on 127.0.0.1:5432"
        " (create it: createdb sb_no_such_database_xyz, or fix DATABASE_URL)"
    )


def test_check_services_names_an_unreachable_cache(tmp_path):
    result = run_manage(
        "check_services",
        SLEEKBATCH_VAR_DIR=str(tmp_path),
        REDIS_URL="redis://127.0.0.1:1/0",
        CELERY_BROKER_URL="filesystem://localhost/",
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "cache unreachable (redis://127.0.0.1:1/0)" in result.stderr


def test_check_services_names_an_unreachable_broker(tmp_path):
    result = run_manage("check_services", SLEEKBATCH_VAR_DIR=str(tmp_path), CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "broker unreachable (redis://127.0.0.1:1/0)" in result.stderr


def test_embedded_default_is_sqlite_in_wal_mode_with_a_filesystem_broker(tmp_path):
    code = (
        "import django, json; django.setup();"
        "from django.conf import settings; from django.db import connection;"
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); mode = c.fetchone()[0];"
        "print(json.dumps([settings.DATABASES['default']['ENGINE'], mode,"
        " settings.DATABASES['default']['OPTIONS']['transaction_mode'], settings.CELERY_BROKER_URL]))"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"}}
    env.update(SLEEKBATCH_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="sleekbatch.settings")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '["django.db.backends.sqlite3", "wal", "IMMEDIATE", "filesystem://localhost/"]'


def run_celery(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"}}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "celery", "-A", "sleekbatch", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_worker_with_its_database_down_stops_with_one_clear_line(tmp_path):
    result = run_celery("worker", "--pool", "solo", DATABASE_URL="postgres://nobody@127.0.0.1:1/sleekbatch")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert "sleekbatch: database unreachable (postgresql 127.0.0.1:1/sleekbatch)" in output


def test_a_worker_with_its_broker_down_stops_with_one_clear_line(tmp_path):
    result = run_celery(
        "worker", "--pool", "solo", SLEEKBATCH_VAR_DIR=str(tmp_path), CELERY_BROKER_URL="redis://127.0.0.1:1/0"
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert "sleekbatch: broker unreachable (redis://127.0.0.1:1/0)" in output


def test_a_relative_var_dir_is_taken_from_the_repository_without_a_cache_warning():
    result = run_manage("check", SLEEKBATCH_VAR_DIR="var/test-relative-var-dir")
    assert result.returncode == 0, result.stderr
    assert "W003" not in result.stdout + result.stderr
    assert (ROOT / "var/test-relative-var-dir/cache").is_dir()
