"""Every error under /api/ answers JSON, never Django's HTML page.

DRF renders its own exceptions; the handlers here cover what Django answers before
or around a view: a path no URL matches (such as a non-UUID id), an oversized body
(413), a refused Host header, a server error. Outside /api/ (admin, pages) Django's
own pages stay.
"""

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.views import exception_handler as drf_exception_handler

from sleekbatch.correlation import get_correlation_id

API_PREFIX = "/api/"


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self):
        from django.conf import settings

        super().__init__(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")


def api_exception_handler(exc, context):
    """DRF's handler, with Django's body-size refusal as a 413 instead of a generic 400 page."""
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    return drf_exception_handler(exc, context)


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _json(detail: str, status_code: int) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status_code)


def bad_request(request, exception, template_name="400.html"):
    if not _is_api(request):
        return defaults.bad_request(request, exception, template_name)
    if isinstance(exception, RequestDataTooBig):
        return _json(str(PayloadTooLarge().detail), status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return _json("Bad request.", status.HTTP_400_BAD_REQUEST)


def permission_denied(request, exception, template_name="403.html"):
    if not _is_api(request):
        return defaults.permission_denied(request, exception, template_name)
    return _json("You do not have permission to perform this action.", status.HTTP_403_FORBIDDEN)


def page_not_found(request, exception, template_name="404.html"):
    if not _is_api(request):
        return defaults.page_not_found(request, exception, template_name)
    return _json("Not found.", status.HTTP_404_NOT_FOUND)


def server_error(request, template_name="500.html"):
    if not _is_api(request):
        return defaults.server_error(request, template_name)
    return _json(
        f"Server error; it has been logged under correlation id {correlation_id_of(request)}.",
        status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def correlation_id_of(request) -> str:
    return getattr(request, "correlation_id", "") or get_correlation_id() or "unknown"
