"""Reachability of the database, the broker and the cache, for start-up and /api/health/."""

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
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


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def database_label() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite {db['NAME']}"
    return f"postgresql {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


def database_error_message(exc: Exception) -> str:
    """One line on why the database cannot be used, naming a database that does not exist as such."""
    reason = _first_line(exc)
    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("sqlite3"):
        if "couldn't get a connection" in reason:
            # psycopg's pool only says it waited; one direct connection says why.
            reason = _direct_connection_error(db) or reason
        if "does not exist" in reason and f'"{db["NAME"]}"' in reason:
            return (
                f"database {db['NAME']!r} does not exist on {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
                f" (create it: createdb {db['NAME']}, or fix DATABASE_URL)"
            )
    return f"database unreachable ({database_label()}): {reason}"


def _direct_connection_error(db: dict) -> str | None:
    import psycopg

    try:
        psycopg.connect(
            host=db.get("HOST") or None,
            port=db.get("PORT") or None,
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            dbname=db["NAME"],
            connect_timeout=3,
        ).close()
    except Exception as exc:
        return _first_line(exc)
    return None


def check_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        raise ServiceUnavailable(database_error_message(exc)) from exc


def check_broker(timeout: float = 3.0) -> None:
    url = settings.CELERY_BROKER_URL
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:
        raise ServiceUnavailable(f"broker unreachable ({_redact(url)}): {_first_line(exc)}") from exc


def cache_label() -> str:
    location = settings.CACHES["default"].get("LOCATION", "")
    return _redact(location) if "://" in str(location) else f"files under {location}"


def check_cache() -> None:
    """Write and read back a key: throttling and the pooling trigger need a cache that works both ways."""
    key = f"sleekbatch:health:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", timeout=10)
        if cache.get(key) != "1":
            raise OSError("a value written could not be read back")
        cache.delete(key)
    except Exception as exc:
        raise ServiceUnavailable(f"cache unreachable ({cache_label()}): {_first_line(exc)}") from exc


SERVICE_CHECKS = {"database": check_database, "broker": check_broker, "cache": check_cache}
