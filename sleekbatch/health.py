from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.response import Response

from sleekbatch.services_check import ServiceUnavailable, check_broker, check_database


@extend_schema(responses={200: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT})
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
@throttle_classes([])
def health(request):
    """Whether the database and the broker are reachable (200) or not (503)."""
    checks = {}
    for name, check in (("database", check_database), ("broker", check_broker)):
        try:
            check()
            checks[name] = {"ok": True}
        except ServiceUnavailable as exc:
            checks[name] = {"ok": False, "error": str(exc)}
    healthy = all(item["ok"] for item in checks.values())
    return Response({"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503)
