"""The production profile passes check --deploy; HTML pages carry a CSP; gunicorn writes JSON lines only."""

import http.client
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from bench.load import Gunicorn

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DATABASE_URL": "postgres://nobody@127.0.0.1:1/sleekbatch",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "sleekbatch.example",
}


def run(args: list[str], **env) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SLEEKBATCH_HTTPS", "DEBUG"}}
    full_env.update(env)
    return subprocess.run(args, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60)


def test_the_production_profile_passes_check_deploy_without_a_warning():
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)

    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_https_settings_are_on_in_the_production_profile_and_can_be_turned_off_for_plain_http():
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_PROXY_SSL_HEADER)"
    )
    env = {**PRODUCTION, "DJANGO_SETTINGS_MODULE": "sleekbatch.settings"}

    on = run([sys.executable, "-c", code], **env)
    off = run([sys.executable, "-c", code], SLEEKBATCH_HTTPS="0", **env)

    assert on.stdout.strip() == "True 31536000 True True ('HTTP_X_FORWARDED_PROTO', 'https')", on.stderr
    assert off.stdout.strip() == "False 0 False False None", off.stderr


def test_html_pages_carry_a_content_security_policy_and_json_answers_do_not(client, db):
    page = client.get("/admin/login/")
    api = client.get("/api/orders/")

    policy = page["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert page["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" not in api


def test_gunicorn_writes_one_json_object_per_line_with_the_correlation_id(tmp_path):
    env = {
        "SLEEKBATCH_VAR_DIR": str(tmp_path / "var"),
        "WEB_WORKERS": "1",
        "WEB_ACCESS_LOG": "1",
        "LOG_LEVEL": "INFO",
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**os.environ, **env}, check=True)
    log = tmp_path / "gunicorn.log"
    with Gunicorn(log, env) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/api/orders/?token=tok-secret&status=open", headers={"X-Request-ID": "req-json-1"})
        assert conn.getresponse().status == 401
    time.sleep(0.2)

    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"gunicorn.error", "gunicorn.access", "django.request"} <= {r["logger"] for r in records}
    request_lines = [
        r for r in records if r["logger"] in ("gunicorn.access", "django.request") and "/api/orders/" in json.dumps(r)
    ]
    assert [r["correlation_id"] for r in request_lines] == ["req-json-1", "req-json-1"]
    assert "tok-secret" not in log.read_text()


def test_compose_puts_the_buffering_proxy_in_front_and_publishes_only_it():
    import yaml

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]

    assert services["proxy"]["volumes"] == ["./deploy/nginx.conf:/etc/nginx/nginx.conf:ro"]
    assert "server web:8000;" in (ROOT / "deploy" / "nginx.conf").read_text()
    published = {name for name, service in services.items() if "8000" in " ".join(service.get("ports", []))}
    assert published == {"proxy"}
