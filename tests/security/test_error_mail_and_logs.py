"""Error mail carries no secret and does not flood; log lines carry the correlation id and no query-string token."""

import json
import logging
import uuid

import pytest
from django.core import mail

from sleekbatch.logging import CorrelationIdFilter, JsonFormatter
from sleekbatch.redaction import redact_query_string, redact_url_credentials

DB_PASSWORD = "pg-pass-Zq81"
BROKER_PASSWORD = "redis-pass-Wy27"


@pytest.fixture(autouse=True)
def fresh_mail_allowance(monkeypatch):
    """Each test counts its mails under its own cache keys."""
    monkeypatch.setattr("sleekbatch.error_reports.CACHE_PREFIX", f"test-error-mail:{uuid.uuid4().hex}")


@pytest.fixture
def admins(settings):
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DATABASE_URL = f"postgres://sleekbatch:{DB_PASSWORD}@db:5432/sleekbatch"
    settings.CELERY_BROKER_URL = f"redis://:{BROKER_PASSWORD}@redis:6379/0"
    settings.CACHES_BACKUP_LOCATION = f"redis://:{BROKER_PASSWORD}@redis:6379/1"


@pytest.fixture
def failing_batches(monkeypatch):
    """GET /api/batches/ raises; ``failing_batches(exc)`` picks the exception."""
    raised = {"exc": RuntimeError("boom")}

    def explode(*args, **kwargs):
        raise raised["exc"]

    monkeypatch.setattr("batches.api.views.batches_visible_to", explode)
    return lambda exc: raised.update(exc=exc)


def server_error(client, **headers):
    client.raise_request_exception = False
    response = client.get("/api/batches/", **headers)
    assert response.status_code == 500
    return response


def test_an_error_mail_redacts_urls_keys_and_passwords(admins, failing_batches, api_client_for, olivia, settings):
    client = api_client_for(olivia)

    server_error(client, QUERY_STRING=f"token=tok-{DB_PASSWORD}&status=open")

    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "RuntimeError" in body
    for secret in (DB_PASSWORD, BROKER_PASSWORD, settings.SECRET_KEY):
        assert secret not in body
    assert "DATABASE_URL = '********'" in body
    assert "CACHES_BACKUP_LOCATION = 'redis://:********@redis:6379/1'" in body
    assert "HTTP_AUTHORIZATION = '********'" in body


def test_the_same_error_is_mailed_once_however_often_it_happens(admins, failing_batches, api_client_for, olivia):
    client = api_client_for(olivia)

    for _ in range(5):
        server_error(client)

    assert len(mail.outbox) == 1


def test_a_different_error_is_mailed_too_up_to_the_hourly_cap(
    admins, failing_batches, api_client_for, olivia, settings
):
    settings.ERROR_MAIL_MAX_PER_HOUR = 2
    client = api_client_for(olivia)

    server_error(client)
    failing_batches(KeyError("other"))
    server_error(client)
    failing_batches(ZeroDivisionError("third"))
    server_error(client)

    assert [m.subject.split(": ")[0] for m in mail.outbox] == ["[Django] ERROR (EXTERNAL IP)"] * 2


def test_a_foreign_host_header_sends_no_mail(admins, client, db):
    for _ in range(3):
        assert client.get("/admin/", HTTP_HOST="evil.example").status_code == 400

    assert mail.outbox == []


@pytest.fixture
def json_lines():
    """The JSON lines that django.request writes, as dicts."""
    records = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(json.loads(self.format(record)))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(CorrelationIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_a_4xx_log_line_carries_the_requests_correlation_id(json_lines, api_client_for, alice):
    response = api_client_for(alice).get("/api/orders/", {"status": "nope"}, HTTP_X_REQUEST_ID="req-4xx")

    assert response.status_code == 400
    assert [line["correlation_id"] for line in json_lines] == ["req-4xx"]
    assert json_lines[0]["request"] == {"method": "GET", "path": "/api/orders/?status=nope"}


def test_a_token_in_the_query_string_never_reaches_a_log_line(json_lines, anon_client, db):
    anon_client.get("/api/orders/", {"token": "tok-secret-1", "access_key": "ak-secret-2", "status": "open"})

    line = json.dumps(json_lines)
    assert json_lines, "the 401 was not logged"
    assert "tok-secret-1" not in line and "ak-secret-2" not in line
    assert json_lines[0]["request"]["path"] == "/api/orders/?token=********&access_key=********&status=open"


def test_redaction_helpers():
    assert redact_query_string("api_key=1&page=2&password=x") == "api_key=********&page=2&password=********"
    assert redact_url_credentials("amqp://guest:pw@rabbit:5672// and redis://:pw2@r/1") == (
        "amqp://guest:********@rabbit:5672// and redis://:********@r/1"
    )
    assert redact_url_credentials("postgres://db/x") == "postgres://db/x"
