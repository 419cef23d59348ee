from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from sleekbatch.roles import OPS, has_role
from sleekbatch.services_check import SERVICE_CHECKS, ServiceUnavailable


class HealthCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    error = serializers.CharField(required=False, help_text="why it failed; shown to operations staff only")


_HEALTH = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "checks": inline_serializer("HealthChecks", {name: HealthCheckSerializer() for name in SERVICE_CHECKS}),
    },
)
_UNAVAILABLE_EXAMPLE = {
    "status": "unavailable",
    "checks": {"database": {"ok": True}, "broker": {"ok": False}, "cache": {"ok": True}},
}


@extend_schema(
    responses={
        200: _HEALTH,
        503: OpenApiResponse(
            _HEALTH,
            description="a service is down (the reason is shown to operations staff only)",
            examples=[OpenApiExample("broker down", value=_UNAVAILABLE_EXAMPLE)],
        ),
    }
)
@api_view(["GET"])
@permission_classes([AllowAny])
@throttle_classes([])
def health(request):
    """Whether the database, the broker and the cache are reachable (200) or not (503).

    Anyone may ask; only operations staff see why a check failed, since the reason names
    hosts and databases.
    """
    show_reasons = has_role(request.user, OPS)
    checks = {}
    for name, check in SERVICE_CHECKS.items():
        try:
            check()
            checks[name] = {"ok": True}
        except ServiceUnavailable as exc:
            checks[name] = {"ok": False, "error": str(exc)} if show_reasons else {"ok": False}
    healthy = all(item["ok"] for item in checks.values())
    return Response({"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503)
