"""Suppliers API: supplier orders (suppliers' users move their own along; ops see and cancel any),
supplier performance (a scorecard with its daily history) and a supplier's contact and bank details
(that supplier's users and ops only)."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from sleekbatch.api_docs import paginated
from sleekbatch.pagination import NewestFirstCursorPagination
from sleekbatch.roles import IsOps, IsSupplierOrOps
from sleekbatch.transition_views import TransitionView
from suppliers import lifecycle
from suppliers.api.serializers import (
    AcknowledgeSerializer,
    CancelSerializer,
    DeliverSerializer,
    PerformanceQuerySerializer,
    ShipSerializer,
    SupplierDetailsSerializer,
    SupplierOrderRefusedSerializer,
    SupplierOrderSerializer,
    SupplierPerformanceSerializer,
)
from suppliers.models import SupplierOrder
from suppliers.scoring import SCORECARD_FIELDS
from suppliers.selectors import (
    supplier_orders_visible_to,
    supplier_score_history,
    supplier_scorecard,
    suppliers_visible_to,
)
from suppliers.services import supplier_details_set


class SupplierOrderListView(APIView):
    permission_classes = [IsSupplierOrOps]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=SupplierOrder.Status.values, description="status")
        ],
        responses=paginated(SupplierOrderSerializer),
    )
    def get(self, request):
        """Supplier orders, newest first: every one for ops, one's own supplier's for a supplier user."""
        supplier_orders = supplier_orders_visible_to(request.user)
        status_filter = request.query_params.get("status")
        if status_filter is not None:
            if status_filter not in SupplierOrder.Status.values:
                raise ValidationError({"status": [f"Choose one of: {', '.join(SupplierOrder.Status.values)}."]})
            supplier_orders = supplier_orders.filter(status=status_filter)
        paginator = NewestFirstCursorPagination()
        page = paginator.paginate_queryset(supplier_orders, request, view=self)
        return paginator.get_paginated_response(SupplierOrderSerializer(page, many=True).data)


class SupplierOrderDetailView(APIView):
    permission_classes = [IsSupplierOrOps]

    @extend_schema(responses=SupplierOrderSerializer)
    def get(self, request, supplier_order_id):
        supplier_order = get_object_or_404(supplier_orders_visible_to(request.user), id=supplier_order_id)
        return Response(SupplierOrderSerializer(supplier_order).data)


class SupplierOrderMoveView(TransitionView):
    """One lifecycle move; 400 for impossible data (nothing stored), 409 when the status does not allow it."""

    permission_classes = [IsSupplierOrOps]
    input_serializer = ShipSerializer
    output_serializer = SupplierOrderSerializer
    conflict_errors = (lifecycle.SupplierOrderConflict,)
    invalid_errors = (lifecycle.SupplierOrderInvalid,)

    def visible(self, user):
        return supplier_orders_visible_to(user)

    def conflict_body(self, exc: lifecycle.SupplierOrderConflict) -> dict:
        return {"detail": str(exc), "status": exc.current_status}

    def post(self, request, supplier_order_id):
        return self.transition_post(request, supplier_order_id)


_MOVE_RESPONSES = {200: SupplierOrderSerializer, 409: SupplierOrderRefusedSerializer}


class SupplierOrderAcknowledgeView(SupplierOrderMoveView):
    input_serializer = AcknowledgeSerializer

    @extend_schema(request=AcknowledgeSerializer, responses=_MOVE_RESPONSES)
    def post(self, request, supplier_order_id):
        """Accept a placed order (with ``promised_date`` when it has none)."""
        return super().post(request, supplier_order_id)

    def move(self, *, object_id, actor, data):
        return lifecycle.supplier_order_acknowledge(
            supplier_order_id=object_id, actor=actor, promised_date=data.get("promised_date")
        )


class SupplierOrderShipView(SupplierOrderMoveView):
    input_serializer = ShipSerializer

    @extend_schema(request=None, responses=_MOVE_RESPONSES)
    def post(self, request, supplier_order_id):
        """The goods of an acknowledged order left the supplier."""
        return super().post(request, supplier_order_id)

    def move(self, *, object_id, actor, data):
        return lifecycle.supplier_order_ship(supplier_order_id=object_id, actor=actor)


class SupplierOrderDeliverView(SupplierOrderMoveView):
    input_serializer = DeliverSerializer

    @extend_schema(request=DeliverSerializer, responses=_MOVE_RESPONSES)
    def post(self, request, supplier_order_id):
        """A shipped order arrived: units delivered and defective; its buyers' orders become delivered."""
        return super().post(request, supplier_order_id)

    def move(self, *, object_id, actor, data):
        delivery = lifecycle.Delivery(
            delivered_units=data["delivered_units"],
            defective_units=data["defective_units"],
            delivered_at=data.get("delivered_at") or timezone.now(),
        )
        return lifecycle.supplier_order_deliver(supplier_order_id=object_id, actor=actor, delivery=delivery)


class SupplierOrderCancelView(SupplierOrderMoveView):
    permission_classes = [IsOps]
    input_serializer = CancelSerializer

    @extend_schema(request=CancelSerializer, responses=_MOVE_RESPONSES)
    def post(self, request, supplier_order_id):
        """Call off an order that has not shipped (ops)."""
        return super().post(request, supplier_order_id)

    def move(self, *, object_id, actor, data):
        return lifecycle.supplier_order_cancel(supplier_order_id=object_id, actor=actor, reason=data.get("reason", ""))


class SupplierPerformanceView(APIView):
    permission_classes = [IsSupplierOrOps]

    @extend_schema(
        parameters=[
            OpenApiParameter("days", OpenApiTypes.INT, description="days of daily history, 1–366 (default 90)")
        ],
        responses=SupplierPerformanceSerializer,
    )
    def get(self, request, supplier_id):
        """The supplier's current scorecard (score, standing and the metrics behind them) and its daily history."""
        supplier = get_object_or_404(suppliers_visible_to(request.user), id=supplier_id)
        query = PerformanceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        current = supplier_scorecard(supplier_id=supplier.id)
        card = current.scorecard
        history = supplier_score_history(supplier_id=supplier.id, days=query.validated_data["days"])
        body = {
            "supplier": {"id": supplier.id, "code": supplier.code, "name": supplier.name},
            "as_of": current.day,
            "computed_at": current.computed_at,
            "window_days": current.window_days,
            **{name: getattr(card, name) for name in SCORECARD_FIELDS},
            "history": [
                {"day": snapshot.day, **{name: getattr(snapshot, name) for name in SCORECARD_FIELDS}}
                for snapshot in history
            ],
        }
        return Response(SupplierPerformanceSerializer(body).data)


class SupplierDetailsView(APIView):
    """Contact person and bank details: encrypted at rest, shown nowhere else (not in lists, not in logs)."""

    permission_classes = [IsSupplierOrOps]

    @extend_schema(responses=SupplierDetailsSerializer)
    def get(self, request, supplier_id):
        """The supplier's contact person and bank details."""
        supplier = get_object_or_404(suppliers_visible_to(request.user), id=supplier_id)
        return Response(SupplierDetailsSerializer(supplier).data)

    @extend_schema(request=SupplierDetailsSerializer, responses=SupplierDetailsSerializer)
    def put(self, request, supplier_id):
        """Replace all five (blank clears one); the IBAN is checked by its check digits, the BIC by its form."""
        supplier = get_object_or_404(suppliers_visible_to(request.user), id=supplier_id)
        serializer = SupplierDetailsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        supplier = supplier_details_set(supplier_id=supplier.id, actor=request.user, details=serializer.validated_data)
        return Response(SupplierDetailsSerializer(supplier).data)
