"""The report API: request a report (202, generated in the background), follow it, download it."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from analytics.reports.kinds import KINDS
from analytics.reports.models import Report, ReportFormat
from analytics.reports.selectors import report_get, reports_visible_to
from analytics.reports.services import (
    CONTENT_TYPES,
    ReportNotAllowed,
    ReportRequestInvalid,
    report_request,
    report_signature_valid,
)
from sleekbatch.api_docs import BAD_REQUEST, FORBIDDEN, NOT_FOUND, ErrorSerializer, paginated
from sleekbatch.pagination import NewestFirstCursorPagination


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(KINDS))
    format = serializers.ChoiceField(choices=ReportFormat.values)
    date_from = serializers.DateField()
    date_to = serializers.DateField(help_text="Inclusive.")
    product_type = serializers.CharField(required=False, allow_blank=True, max_length=50, default="")
    supplier = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=50, default=None, help_text="id or code"
    )


class ReportSerializer(serializers.ModelSerializer):
    supplier = serializers.CharField(source="supplier.code", read_only=True, default=None, allow_null=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    product_type = serializers.CharField(read_only=True, help_text="empty: every product type")
    progress = serializers.IntegerField(source="rows_written", read_only=True, help_text="rows written so far")
    duration_ms = serializers.IntegerField(read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "kind",
            "format",
            "date_from",
            "date_to",
            "product_type",
            "supplier",
            "requested_by",
            "status",
            "failure_reason",
            "progress",
            "row_count",
            "size_bytes",
            "file_name",
            "created_at",
            "started_at",
            "finished_at",
            "duration_ms",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, report) -> str | None:
        if report.status != Report.Status.DONE:
            return None
        return reverse("report-download", kwargs={"report_id": report.pk}, request=self.context.get("request"))


class ReportListCreateView(APIView):
    parser_classes = [JSONParser]
    # Each request is a background job that may scan a month of orders.
    throttle_scope = {"POST": "reports"}

    @extend_schema(responses=paginated(ReportSerializer))
    def get(self, request):
        """Reports, newest first: your own (ops: everyone's)."""
        paginator = NewestFirstCursorPagination()
        page = paginator.paginate_queryset(reports_visible_to(user=request.user), request, view=self)
        return paginator.get_paginated_response(ReportSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        request=ReportRequestSerializer,
        responses={
            202: ReportSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
        },
    )
    def post(self, request):
        """Request a report; it is generated in the background on the reports queue (202)."""
        serializer = ReportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            report = report_request(
                user=request.user, **serializer.validated_data, correlation_id=request.correlation_id
            )
        except ReportRequestInvalid as exc:
            raise ValidationError(exc.errors) from exc
        except ReportNotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(ReportSerializer(report, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class ReportDetailView(APIView):
    @extend_schema(responses=ReportSerializer)
    def get(self, request, report_id):
        """One report's status, progress, row count, size and timing. Another user's report is a 404."""
        report = report_get(user=request.user, report_id=report_id)
        if report is None:
            raise NotFound("No such report.")
        return Response(ReportSerializer(report, context={"request": request}).data)


class ReportDownloadView(APIView):
    # A signed link from a report email works without logging in; otherwise the usual token/session.
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("signature", OpenApiTypes.STR, description="from an emailed link")],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: OpenApiResponse(
                inline_serializer(
                    "ReportNotReady", {"detail": serializers.CharField(), "status": serializers.CharField()}
                ),
                description="the report is not generated yet",
            ),
            410: OpenApiResponse(ErrorSerializer, description="the file was deleted after the retention period"),
        },
    )
    def get(self, request, report_id):
        """The report's file, streamed, named after what it holds."""
        signature = request.query_params.get("signature")
        if signature:
            if not report_signature_valid(report_id=report_id, signature=signature):
                raise PermissionDenied("This download link is invalid or has expired.")
            report = Report.objects.filter(pk=report_id).first()
        elif request.user and request.user.is_authenticated:
            report = report_get(user=request.user, report_id=report_id)
        else:
            self.permission_denied(request)  # 401 with the authentication challenge
        if report is None:
            raise NotFound("No such report.")
        if report.status == Report.Status.EXPIRED:
            return Response({"detail": "This report's file was deleted after the retention period."}, status=410)
        if report.status != Report.Status.DONE:
            return Response(
                {"detail": f"The report is {report.status}; nothing to download yet.", "status": report.status},
                status=status.HTTP_409_CONFLICT,
            )
        return FileResponse(
            report.file.open("rb"),
            as_attachment=True,
            filename=report.file_name,
            content_type=CONTENT_TYPES[report.format],
        )
