"""Django's error mail to ADMINS: nothing secret in it, and never a flood.

``RedactingExceptionReporterFilter`` hides every sensitive setting, request header,
query parameter and local variable (sleekbatch/redaction.py decides what is sensitive)
and any password inside a URL. ``RateLimitedAdminEmailHandler`` sends one mail per
distinct error per ERROR_MAIL_REPEAT_SECONDS and at most ERROR_MAIL_MAX_PER_HOUR in
all, counted on the shared cache so every web process draws on the same allowance.
"""

import hashlib
import logging
import threading
import time

from django.conf import settings
from django.utils.log import AdminEmailHandler
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from sleekbatch.redaction import (
    REDACTED,
    SENSITIVE_NAME,
    is_sensitive_name,
    redact_path,
    redact_query_string,
    redact_url_credentials,
)


class RedactingExceptionReporterFilter(SafeExceptionReporterFilter):
    cleansed_substitute = REDACTED
    hidden_settings = SENSITIVE_NAME

    def is_active(self, request):
        return True  # also under DEBUG: a developer's error page shows what a mail would

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str):
            cleansed = redact_url_credentials(cleansed)
        return cleansed

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        for key in ("QUERY_STRING",):
            if isinstance(meta.get(key), str):
                meta[key] = redact_query_string(meta[key])
        for key in ("RAW_URI", "REQUEST_URI"):
            if isinstance(meta.get(key), str):
                path, sep, query = meta[key].partition("?")
                meta[key] = f"{path}{sep}{redact_query_string(query)}" if sep else path
        return meta

    def get_post_parameters(self, request):
        parameters = super().get_post_parameters(request)
        if not parameters or not any(is_sensitive_name(name) for name in parameters):
            return parameters
        parameters = parameters.copy()
        for name in parameters:
            if is_sensitive_name(name):
                parameters[name] = self.cleansed_substitute
        return parameters

    def get_traceback_frame_variables(self, request, tb_frame):
        variables = super().get_traceback_frame_variables(request, tb_frame)
        # A dict in a frame (a serializer's data, a form's cleaned_data) by its keys, as settings are.
        return [
            (name, self.cleansed_substitute if SENSITIVE_NAME.search(name) else self._cleanse_mapping(value))
            for name, value in variables
        ]

    def _cleanse_mapping(self, value):
        if isinstance(value, dict):
            return {key: self.cleanse_setting(key, item) for key, item in value.items()}
        return value


class RedactingExceptionReporter(ExceptionReporter):
    """The report's request URL and GET section with sensitive query parameters redacted."""

    def _get_raw_insecure_uri(self):
        return redact_path(super()._get_raw_insecure_uri())

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if "request_GET_items" in data:
            data["request_GET_items"] = [
                (name, REDACTED if is_sensitive_name(name) else value) for name, value in data["request_GET_items"]
            ]
        return data


class _LocalCounter:
    """The allowance kept in this process when the shared cache cannot be reached."""

    def __init__(self):
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        self._counts: dict[str, int] = {}

    def add(self, key: str, timeout: float) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._expiry.get(key, 0) > now:
                return False
            self._expiry[key] = now + timeout
            self._counts[key] = 0
            return True

    def incr(self, key: str, timeout: float) -> int:
        self.add(key, timeout)
        with self._lock:
            self._counts[key] += 1
            return self._counts[key]


_local = _LocalCounter()
CACHE_PREFIX = "sleekbatch:error-mail"


def error_signature(record: logging.LogRecord) -> str:
    """Errors alike enough that one mail says it: same logger, exception type and the line that raised."""
    parts = [record.name, str(record.msg)[:200] if not record.exc_info else ""]
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        tb = record.exc_info[2]
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else ""
        parts += [type(exc).__module__, type(exc).__qualname__, where]
    return hashlib.sha256("|".join(parts).encode("utf-8", "replace")).hexdigest()[:32]


def error_mail_allowed(record: logging.LogRecord) -> bool:
    """Whether this record may be mailed now (and, if so, it is counted)."""
    repeat_seconds = settings.ERROR_MAIL_REPEAT_SECONDS
    first_of_its_kind_key = f"{CACHE_PREFIX}:seen:{error_signature(record)}"
    hour_key = f"{CACHE_PREFIX}:hour:{int(time.time() // 3600)}"
    try:
        from django.core.cache import cache

        if not cache.add(first_of_its_kind_key, 1, timeout=repeat_seconds):
            return False
        cache.add(hour_key, 0, timeout=3600)
        sent = cache.incr(hour_key)
    except Exception:  # the cache is down: keep the allowance in this process rather than mail everything
        if not _local.add(first_of_its_kind_key, repeat_seconds):
            return False
        sent = _local.incr(hour_key, 3600)
    return sent <= settings.ERROR_MAIL_MAX_PER_HOUR


class RateLimitedAdminEmailHandler(AdminEmailHandler):
    def emit(self, record):
        if not error_mail_allowed(record):
            return
        super().emit(record)
