"""A database that cannot be reached answers 503 JSON with Retry-After on the views that opt in.

Order intake opts in: a buyer's client then knows that nothing was stored and when to
try again, instead of getting Django's HTML 500.
"""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.exceptions import APIException

logger = logging.getLogger("sleekbatch.api")


class DatabaseUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database is unavailable, so nothing was stored. Please retry shortly."
    default_code = "database_unavailable"

    def __init__(self):
        super().__init__()
        # DRF's exception handler turns `wait` into the Retry-After header.
        self.wait = settings.DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS


class DatabaseOutageAs503:
    """APIView mixin: a lost or refused database connection becomes DatabaseUnavailable (503)."""

    def handle_exception(self, exc):
        if isinstance(exc, OperationalError | InterfaceError):
            logger.warning("api.database_unavailable", extra={"path": self.request.path, "error": str(exc)[:200]})
            exc = DatabaseUnavailable()
        return super().handle_exception(exc)
