"""Batches API: buyers follow the batches of their orders; ops also decide the review queue."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from batches import state
from batches.api.serializers import BatchDecisionRefusedSerializer, BatchExtendSerializer, BatchSerializer
from batches.models import ProductionBatch
from batches.selectors import batches_visible_to
from sleekbatch.api_docs import BAD_REQUEST, ERRORS_AUTHENTICATED, FORBIDDEN, NOT_FOUND, paginated
from sleekbatch.pagination import NewestFirstCursorPagination
from sleekbatch.roles import IsBuyerOrOps, IsOps
from sleekbatch.transition_views import TransitionView


class BatchListView(APIView):
    permission_classes = [IsBuyerOrOps]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=ProductionBatch.Status.values, description="batch status")
        ],
        responses={200: paginated(BatchSerializer), 400: BAD_REQUEST, 403: FORBIDDEN, **ERRORS_AUTHENTICATED},
    )
    def get(self, request):
        """Batches, newest first: every batch for ops, the batches holding one's own orders for a buyer."""
        batches = batches_visible_to(request.user)
        status_filter = request.query_params.get("status")
        if status_filter is not None:
            if status_filter not in ProductionBatch.Status.values:
                raise ValidationError({"status": [f"Choose one of: {', '.join(ProductionBatch.Status.values)}."]})
            batches = batches.filter(batch_status=status_filter)
        paginator = NewestFirstCursorPagination()
        page = paginator.paginate_queryset(batches, request, view=self)
        return paginator.get_paginated_response(BatchSerializer(page, many=True).data)


class BatchDetailView(APIView):
    permission_classes = [IsBuyerOrOps]

    @extend_schema(responses={200: BatchSerializer, 403: FORBIDDEN, 404: NOT_FOUND, **ERRORS_AUTHENTICATED})
    def get(self, request, batch_id):
        return Response(BatchSerializer(get_object_or_404(batches_visible_to(request.user), id=batch_id)).data)


class BatchDecisionView(TransitionView):
    """A review-queue decision; 409 when the batch is no longer in ``admin_review``."""

    permission_classes = [IsOps]
    throttle_scope = "review_decisions"
    output_serializer = BatchSerializer
    conflict_errors = (state.BatchNotInReview,)

    def visible(self, user):
        return batches_visible_to(user)

    def conflict_body(self, exc: state.BatchNotInReview) -> dict:
        return {"detail": str(exc), "batch_status": exc.batch_status}

    def post(self, request, batch_id):
        return self.transition_post(request, batch_id)


_DECISION_RESPONSES = {
    200: BatchSerializer,
    403: FORBIDDEN,
    404: NOT_FOUND,
    409: OpenApiResponse(
        BatchDecisionRefusedSerializer,
        description="the batch is no longer in review; nothing was decided",
        examples=[
            OpenApiExample(
                "already decided",
                value={
                    "detail": "Batch 1f0c2a9e is no longer in admin review (it is confirmed); no decision was made. "
                    "Reload to see its current state.",
                    "batch_status": "confirmed",
                },
            )
        ],
    ),
    **ERRORS_AUTHENTICATED,
}


class BatchApproveView(BatchDecisionView):
    @extend_schema(request=None, responses=_DECISION_RESPONSES)
    def post(self, request, batch_id):
        """Confirm a batch in review and place its supplier order."""
        return super().post(request, batch_id)

    def move(self, *, object_id, actor, data):
        return state.review_approve(batch_id=object_id, actor=actor)


class BatchCancelView(BatchDecisionView):
    @extend_schema(request=None, responses=_DECISION_RESPONSES)
    def post(self, request, batch_id):
        """Cancel a batch in review and refund each of its orders."""
        return super().post(request, batch_id)

    def move(self, *, object_id, actor, data):
        return state.review_cancel(batch_id=object_id, actor=actor)


class BatchExtendView(BatchDecisionView):
    input_serializer = BatchExtendSerializer

    @extend_schema(request=BatchExtendSerializer, responses={**_DECISION_RESPONSES, 400: BAD_REQUEST})
    def post(self, request, batch_id):
        """Give a batch in review ``hours`` more to fill: back to ``open``."""
        return super().post(request, batch_id)

    def move(self, *, object_id, actor, data):
        return state.review_extend_window(batch_id=object_id, hours=data["hours"], actor=actor)
