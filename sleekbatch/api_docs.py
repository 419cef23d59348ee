"""OpenAPI pieces shared by the API views: the cursor-page envelope and the error bodies, with examples.

Views declare their responses with these, and tests/foundation/test_api_schema_conformance.py
checks real responses of every endpoint against the schema, so the two cannot drift apart.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated


def paginated(serializer_class):
    """A cursor page of ``serializer_class``: ``{"next": url|null, "previous": url|null, "results": [...]}``."""
    name = serializer_class.__name__.removesuffix("Serializer")
    page = inline_serializer(
        f"{name}Page",
        {
            "next": serializers.URLField(allow_null=True, help_text="the next (older) page, or null"),
            "previous": serializers.URLField(allow_null=True, help_text="the previous (newer) page, or null"),
            "results": serializer_class(many=True),
        },
    )
    page.is_page = True
    return page


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="what went wrong, for a person to read")


# Field errors: each field names its messages; errors of one order of a bulk request sit under its index.
FIELD_ERRORS = {
    "type": "object",
    "additionalProperties": True,
    "example": {"quantity": ["Ensure this value is greater than or equal to 1."]},
}


def _error(description: str, example: str, *, name: str) -> OpenApiResponse:
    return OpenApiResponse(
        ErrorSerializer, description=description, examples=[OpenApiExample(name, value={"detail": example})]
    )


BAD_REQUEST = OpenApiResponse(
    FIELD_ERRORS,
    description="invalid input: field errors; nothing was stored",
    examples=[
        OpenApiExample(
            "field errors",
            value={
                "quantity": ["Ensure this value is less than or equal to 10000."],
                "style_details": ["This field is required."],
            },
        )
    ],
)
UNAUTHENTICATED = _error("no or invalid credentials", "Authentication credentials were not provided.", name="no token")
FORBIDDEN = _error("the user's role may not do this", "Only operations staff can do this.", name="wrong role")
NOT_FOUND = _error("no such object, or another user's", "No such order.", name="not found")
THROTTLED = _error(
    "too many requests; retry after the Retry-After header's seconds",
    "Request was throttled. Expected available in 12 seconds.",
    name="throttled",
)

# The errors any authenticated endpoint can answer.
ERRORS_AUTHENTICATED = {401: UNAUTHENTICATED, 429: THROTTLED}
ERRORS_WITH_INPUT = {400: BAD_REQUEST, **ERRORS_AUTHENTICATED}


class SleekbatchAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus the error answers every endpoint can give, and ``*_list`` ids for pages.

    An operation documents its own errors where it has something to add (a 409, an example);
    the rest follow from the view: 401 and 429 when it needs a login, 403 when it needs a role,
    404 when its path names an object, 400 when it takes input.
    """

    def get_operation_id(self):
        operation_id = super().get_operation_id()
        if self.method == "GET" and getattr(self._main_response_serializer(), "is_page", False):
            operation_id = operation_id.removesuffix("_retrieve") + "_list"
        return operation_id

    def _main_response_serializer(self):
        responses = self.get_response_serializers()
        if isinstance(responses, dict):
            responses = responses.get(200)
        if isinstance(responses, OpenApiResponse):
            responses = responses.response
        return responses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction == "response":
            for code, response in self._implied_errors().items():
                if str(code) not in responses:
                    responses[str(code)] = self._get_response_for_code(response, str(code), direction=direction)
        return responses

    def _implied_errors(self) -> dict:
        permissions = self.view.get_permissions()
        errors = {}
        if any(not isinstance(permission, AllowAny) for permission in permissions):
            errors.update({401: UNAUTHENTICATED, 429: THROTTLED})
            if any(type(permission) is not IsAuthenticated for permission in permissions):
                errors[403] = FORBIDDEN
        if "{" in self.path:
            errors[404] = NOT_FOUND
        takes_body = self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
        if takes_body or (self.method == "GET" and self.get_override_parameters()):
            errors[400] = BAD_REQUEST
        return errors
