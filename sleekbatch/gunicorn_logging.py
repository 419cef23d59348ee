"""gunicorn's own log lines as JSON, like every other line the web process writes.

gunicorn's default logger writes plain text (and multi-line tracebacks) into the stream
that carries Django's JSON lines. This keeps gunicorn's handlers and levels and swaps
their formatter; access lines (WEB_ACCESS_LOG=1) become one event with the method, the
path with sensitive query parameters redacted, status, size, duration and the request's
correlation id (the ``X-Request-ID`` the response carries).
"""

import traceback

from gunicorn import glogging

from sleekbatch.logging import CorrelationIdFilter, JsonFormatter
from sleekbatch.redaction import redact_query_string


class JsonLogger(glogging.Logger):
    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())
                handler.addFilter(CorrelationIdFilter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        headers = {name.lower(): value for name, value in (resp.headers or [])}
        query = redact_query_string(environ.get("QUERY_STRING", ""))
        try:
            self.access_log.info(
                "http.access",
                extra={
                    "method": environ.get("REQUEST_METHOD", ""),
                    "path": environ.get("PATH_INFO", "") + (f"?{query}" if query else ""),
                    "status": resp.status_code,
                    "bytes": getattr(resp, "sent", None),
                    "duration_ms": round(request_time.total_seconds() * 1000, 2),
                    "remote_addr": environ.get("REMOTE_ADDR", ""),
                    "correlation_id": headers.get("x-request-id", ""),
                },
            )
        except Exception:
            self.error(traceback.format_exc())
