"""Shared task policy and the infrastructure ping task."""

import kombu.exceptions
import redis.exceptions
from celery import shared_task
from django.db import InterfaceError, OperationalError, connection

# Errors worth another try: the database or broker hiccupped, a lock timed out,
# a deadlock victim was chosen. Everything else (validation, domain rules,
# integrity violations) is permanent and fails at once.
TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)

# Spread into @shared_task(...): 5 tries, exponential backoff with full jitter,
# capped at 60 s, far below the Redis visibility timeout (settings).
RETRY_POLICY = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="sleekbatch.ping", **RETRY_POLICY)
def ping(token: str) -> dict:
    """Round-trips through the broker and the database: used by health tests."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {
        "token": token,
        "vendor": connection.vendor,
        "database": connection.settings_dict["NAME"],
        "pooled": bool(connection.settings_dict.get("OPTIONS", {}).get("pool")),
    }
