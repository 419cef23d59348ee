"""Reachability of the database and the broker, for start-up and /api/health/."""

from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection

from sleekbatch.celery import app


class ServiceUnavailable(Exception):
    pass


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def database_label() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite {db['NAME']}"
    return f"postgresql {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


def check_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ServiceUnavailable(f"database unreachable ({database_label()}): {first_line}") from exc


def check_broker(timeout: float = 3.0) -> None:
    url = settings.CELERY_BROKER_URL
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ServiceUnavailable(f"broker unreachable ({_redact(url)}): {first_line}") from exc
