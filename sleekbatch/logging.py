"""JSON-lines logging. A log call reads as an event name with ids as fields:

logger.info("order.pooled", extra={"order_id": order.id, "batch_id": batch.id})
"""

import json
import logging
from datetime import UTC, datetime

from django.http import HttpRequest

from sleekbatch.correlation import get_correlation_id
from sleekbatch.redaction import redact_path

# Attributes every LogRecord has; anything else was passed through ``extra``.
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "correlation_id"}


class CorrelationIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "correlation_id", None):
            # django.request logs a 4xx after the middleware has left the request's
            # context; the request it passes along still knows its id.
            request = getattr(record, "request", None)
            record.correlation_id = getattr(request, "correlation_id", "") or get_correlation_id()
        return True


def _request_fields(request: HttpRequest) -> dict:
    """A request as a log field: method and path, the query string redacted (no tokens in logs)."""
    try:
        return {"method": request.method, "path": redact_path(request.get_full_path())}
    except Exception:  # a request too broken to describe (e.g. a refused Host) still gets its line
        return {"method": getattr(request, "method", ""), "path": redact_path(getattr(request, "path", ""))}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", "") or get_correlation_id(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = _request_fields(value) if isinstance(value, HttpRequest) else value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)
