"""The correlation id of the unit of work in progress: an HTTP request or a task.

It enters as ``X-Request-ID`` (or is generated), travels in Celery task headers,
and is written on log lines, orders, batch events and job records.
"""

import contextvars
import re
import uuid

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

_current: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def clean_correlation_id(value: str | None) -> str:
    """An incoming id if it is safe to log and store, else a fresh one."""
    if value and _VALID.match(value):
        return value
    return new_correlation_id()


def get_correlation_id() -> str:
    return _current.get()


def set_correlation_id(value: str) -> contextvars.Token:
    return _current.set(value)


def reset_correlation_id(token: contextvars.Token) -> None:
    _current.reset(token)
