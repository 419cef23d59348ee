"""Order intake API: validate with a serializer, call a service, answer with the order."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.api.serializers import (
    OrderBulkSubmitSerializer,
    OrderSerializer,
    OrderSubmitSerializer,
    order_submit_validate,
)
from orders.models import Order
from orders.selectors import (
    bulk_submission_get,
    order_get,
    order_get_by_idempotency_key,
    order_list,
    orders_get_in_order,
)
from orders.services import IdempotencyConflict, order_request_fingerprint, order_submit, order_submit_bulk
from sleekbatch.api_docs import (
    BAD_REQUEST,
    ERRORS_AUTHENTICATED,
    ERRORS_WITH_INPUT,
    FORBIDDEN,
    NOT_FOUND,
    ErrorSerializer,
    paginated,
)
from sleekbatch.database_outage import DatabaseOutageAs503
from sleekbatch.pagination import NewestFirstCursorPagination
from sleekbatch.roles import IsBuyer, IsBuyerOrOps

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_META_KEY = "HTTP_IDEMPOTENCY_KEY"
IDEMPOTENCY_KEY_MAX_LENGTH = Order._meta.get_field("idempotency_key").max_length

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Up to 255 characters. Same key and body: the first order again (200); another body: 409.",
)
BULK_IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Up to 255 characters. Same key and body: the first bulk's orders again (200); another body: 409.",
)


IDEMPOTENCY_CONFLICT = OpenApiResponse(
    ErrorSerializer,
    description="this Idempotency-Key was used with another body; nothing was stored",
    examples=[
        OpenApiExample("key reused", value={"detail": "Idempotency-Key 'k1' was already used for a different order."})
    ],
)
DATABASE_DOWN = OpenApiResponse(
    ErrorSerializer,
    description="the database is unreachable; nothing was stored, retry later",
    examples=[
        OpenApiExample(
            "database down",
            value={"detail": "The database is unavailable, so nothing was stored. Please retry shortly."},
        )
    ],
)
BULK_ACCEPTED = inline_serializer("OrderBulkAccepted", {"orders": OrderSerializer(many=True)})


def idempotency_key_from(request) -> str | None:
    # From META: request.headers builds a dict of every header, on the busiest request of the API.
    key = request.META.get(IDEMPOTENCY_META_KEY)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise ValidationError({IDEMPOTENCY_HEADER: [f"Must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters."]})
    return key


class OrderListCreateView(DatabaseOutageAs503, APIView):
    throttle_scope = {"POST": "orders_submit"}

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsBuyer()]
        return [IsBuyerOrOps()]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=Order.Status.values, description="workflow status")
        ],
        responses={200: paginated(OrderSerializer), 400: BAD_REQUEST, 403: FORBIDDEN, **ERRORS_AUTHENTICATED},
    )
    def get(self, request):
        """Orders, newest first: a buyer's own, or every order for ops."""
        status_filter = request.query_params.get("status")
        if status_filter is not None and status_filter not in Order.Status.values:
            raise ValidationError({"status": [f"Choose one of: {', '.join(Order.Status.values)}."]})
        paginator = NewestFirstCursorPagination()
        page = paginator.paginate_queryset(order_list(user=request.user, status=status_filter), request, view=self)
        return paginator.get_paginated_response(OrderSerializer(page, many=True).data)

    @extend_schema(
        request=OrderSubmitSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            202: OrderSerializer,
            200: OpenApiResponse(OrderSerializer, description="the order first stored under this Idempotency-Key"),
            403: FORBIDDEN,
            409: IDEMPOTENCY_CONFLICT,
            503: DATABASE_DOWN,
            **ERRORS_WITH_INPUT,
        },
    )
    def post(self, request):
        """Submit one order; it is pooled in the background (202). Database down: 503, nothing stored."""
        idempotency_key = idempotency_key_from(request)
        fingerprint = order_request_fingerprint(request.data) if idempotency_key else ""
        try:
            validated = order_submit_validate(request.data)
        except ValidationError:
            # A retry of an order that was stored before its product type was
            # withdrawn must still learn that its order exists.
            if idempotency_key:
                earlier = order_get_by_idempotency_key(buyer=request.user, idempotency_key=idempotency_key)
                if earlier is not None and earlier.request_fingerprint == fingerprint:
                    return Response(OrderSerializer(earlier).data, status=status.HTTP_200_OK)
            raise
        try:
            submission = order_submit(
                buyer=request.user,
                **validated,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint,
                correlation_id=request.correlation_id,
            )
        except IdempotencyConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(
            OrderSerializer(submission.order).data,
            status=status.HTTP_202_ACCEPTED if submission.created else status.HTTP_200_OK,
        )


class OrderBulkCreateView(DatabaseOutageAs503, APIView):
    throttle_scope = "orders_bulk"
    permission_classes = [IsBuyer]

    @extend_schema(
        request=OrderBulkSubmitSerializer,
        parameters=[BULK_IDEMPOTENCY_PARAMETER],
        responses={
            202: BULK_ACCEPTED,
            200: OpenApiResponse(BULK_ACCEPTED, description="the orders first stored under this Idempotency-Key"),
            403: FORBIDDEN,
            409: IDEMPOTENCY_CONFLICT,
            503: DATABASE_DOWN,
            **ERRORS_WITH_INPUT,
        },
    )
    def post(self, request):
        """Submit up to ORDER_BULK_MAX orders: all valid and stored, or none (400, errors by index).

        With an Idempotency-Key a retry gets the first bulk's orders (200) and stores none.
        """
        idempotency_key = idempotency_key_from(request)
        fingerprint = order_request_fingerprint(request.data) if idempotency_key else ""
        serializer = OrderBulkSubmitSerializer(data=request.data)
        if not serializer.is_valid():
            # As for one order: a retry of a bulk stored before a product type was withdrawn gets its orders.
            earlier = (
                bulk_submission_get(buyer=request.user, idempotency_key=idempotency_key) if idempotency_key else None
            )
            if earlier is None or earlier.request_fingerprint != fingerprint:
                raise ValidationError(serializer.errors)
            orders = orders_get_in_order(earlier.order_ids)
            return Response({"orders": OrderSerializer(orders, many=True).data}, status=status.HTTP_200_OK)
        try:
            submission = order_submit_bulk(
                buyer=request.user,
                orders=serializer.validated_data["orders"],
                correlation_id=request.correlation_id,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint,
            )
        except IdempotencyConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(
            {"orders": OrderSerializer(submission.orders, many=True).data},
            status=status.HTTP_202_ACCEPTED if submission.created else status.HTTP_200_OK,
        )


class OrderDetailView(APIView):
    permission_classes = [IsBuyerOrOps]

    @extend_schema(responses={200: OrderSerializer, 403: FORBIDDEN, 404: NOT_FOUND, **ERRORS_AUTHENTICATED})
    def get(self, request, order_id):
        """One order: status, batch, prices, rejection reason. Another buyer's order is a 404."""
        order = order_get(user=request.user, order_id=order_id)
        if order is None:
            raise NotFound("No such order.")
        return Response(OrderSerializer(order).data)
