"""Shared task policy (transient errors retry on a time budget) and the infrastructure ping task.

Why a time budget and not a number of tries: five tries with jittered backoff can all be
spent within seconds (0, 1, 0, 3, 3 s were seen), so a 12 s database restart exhausted
them. Each try here waits a random time between a floor and an exponentially growing
ceiling (full jitter), and a task gives up only once the next wait would take it past
``TASK_RETRY_BUDGET_SECONDS`` since its first try (docs/reliability.md).
"""

import logging
import random
import time

import kombu.exceptions
import redis.exceptions
from celery import Task, shared_task
from celery.exceptions import Ignore, Reject, Retry
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger("sleekbatch.tasks")

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

# A custom message header: when the first try of this task started (epoch seconds).
# Retries carry it, so the budget counts from the first try, not from the last one.
FIRST_TRY_HEADER = "sleekbatch_first_try_at"


def retry_countdown(retries: int) -> float:
    """Seconds before the next try: full jitter under an exponential ceiling, never below the floor."""
    ceiling = min(settings.TASK_RETRY_MAX_SECONDS, settings.TASK_RETRY_BASE_SECONDS * 2**retries)
    return max(settings.TASK_RETRY_FLOOR_SECONDS, random.uniform(0, ceiling))


class RetryTransientErrors(Task):
    """Base of every task: a transient error retries until the time budget is spent, then fails."""

    max_retries = None  # bounded by time (retry_budget_seconds), not by count

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except (Ignore, Reject, Retry):
            raise
        except TRANSIENT_ERRORS as exc:
            raise self._retry_within_budget(exc) from exc

    def _retry_within_budget(self, exc: Exception) -> Exception:
        request = self.request
        if request.called_directly or request.is_eager:
            return exc  # a direct or eager call (tests of one function) reports the error at once
        now = time.time()
        first_try_at = float(getattr(request, FIRST_TRY_HEADER, None) or now)
        countdown = retry_countdown(request.retries)
        elapsed = now - first_try_at
        if elapsed + countdown > settings.TASK_RETRY_BUDGET_SECONDS:
            logger.warning(
                "task.retry_budget_spent",
                extra={"task_name": self.name, "task_id": request.id, "retries": request.retries, "elapsed": elapsed},
            )
            return exc
        headers = {**(request.headers or {}), FIRST_TRY_HEADER: first_try_at}
        try:
            return self.retry(exc=exc, countdown=countdown, headers=headers, throw=False) or Retry(exc=exc)
        except Exception:
            # The broker is down too, so no retry message can go out. The error is reported as the task's;
            # the message (acks_late) or the pooling watchdog brings the work back.
            logger.warning("task.retry_not_sent", extra={"task_name": self.name, "task_id": request.id}, exc_info=True)
            return exc


# Spread into @shared_task(...): every task retries transient errors on the time budget.
RETRY_POLICY = {"base": RetryTransientErrors}


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
