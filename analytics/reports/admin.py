"""Reports in the admin: the list with download links, and a form for ops to request one."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from analytics.reports.kinds import KINDS
from analytics.reports.models import Report, ReportDelivery, ReportFormat, ReportSubscription
from analytics.reports.services import ReportNotAllowed, ReportRequestInvalid, report_prepare, report_request
from sleekbatch.roles import OPS, has_role
from suppliers.models import Supplier


class ReportRequestForm(forms.ModelForm):
    kind = forms.ChoiceField(choices=[(name, spec.title) for name, spec in KINDS.items()])
    format = forms.ChoiceField(choices=ReportFormat.choices)
    supplier = forms.ModelChoiceField(queryset=Supplier.objects.all(), required=False)

    class Meta:
        model = Report
        fields = ["kind", "format", "date_from", "date_to", "product_type", "supplier"]
        widgets = {
            "date_from": forms.DateInput(attrs={"type": "date"}),
            "date_to": forms.DateInput(attrs={"type": "date"}),
        }

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        supplier = cleaned.get("supplier")
        try:
            report_prepare(
                user=self.request_user,
                kind=cleaned["kind"],
                format=cleaned["format"],
                date_from=cleaned["date_from"],
                date_to=cleaned["date_to"],
                product_type=cleaned.get("product_type") or "",
                supplier=supplier.pk if supplier else None,
            )
        except ReportRequestInvalid as exc:
            for field, field_errors in exc.errors.items():
                for error in field_errors:
                    self.add_error(field if field in self.fields else None, error)
        except ReportNotAllowed as exc:
            raise forms.ValidationError(str(exc)) from exc
        return cleaned


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "format", "period", "requested_by", "status", "row_count", "size", "download"]
    list_filter = ["status", "kind", "format", "scheduled"]
    search_fields = ["id", "requested_by__username", "file_name"]
    list_select_related = ["requested_by", "supplier"]
    date_hierarchy = "created_at"
    form = ReportRequestForm
    readonly_fields = [
        "id", "kind", "format", "date_from", "date_to", "product_type", "supplier", "requested_by", "scope",
        "status", "failure_reason", "rows_written", "row_count", "size_bytes", "file_name", "download",
        "attempt", "scheduled", "correlation_id", "created_at", "started_at", "finished_at",
    ]  # fmt: skip

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["kind", "format", "date_from", "date_to", "product_type", "supplier"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def has_module_permission(self, request):
        return has_role(request.user, OPS) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, OPS) or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return has_role(request.user, OPS)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = report_request(
            user=request.user,
            kind=data["kind"],
            format=data["format"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            product_type=data.get("product_type") or "",
            supplier=data["supplier"].pk if data.get("supplier") else None,
            correlation_id=getattr(request, "correlation_id", ""),
        )
        obj.pk = created.pk
        obj.__dict__.update({key: value for key, value in created.__dict__.items() if not key.startswith("_")})
        messages.info(request, "The report is queued; this list shows when it is ready to download.")

    def response_add(self, request, obj, post_url_continue=None):
        return self.response_post_save_add(request, obj)

    @admin.display(description="Period")
    def period(self, obj):
        return f"{obj.date_from} – {obj.date_to}"

    @admin.display(description="Size")
    def size(self, obj):
        if obj.size_bytes is None:
            return "–"
        return f"{obj.size_bytes / 1024:,.1f} KiB"

    @admin.display(description="File")
    def download(self, obj):
        if obj.status == Report.Status.DONE:
            url = reverse("report-download", kwargs={"report_id": obj.pk})
            return format_html('<a href="{}">Download {}</a>', url, obj.file_name)
        if obj.status == Report.Status.FAILED:
            return format_html("<span title='{}'>failed</span>", obj.failure_reason)
        return obj.get_status_display()


class OpsOnlyMixin:
    def has_module_permission(self, request):
        return has_role(request.user, OPS) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, OPS) or super().has_view_permission(request, obj)


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(OpsOnlyMixin, admin.ModelAdmin):
    list_display = ["user", "enabled", "kind", "format", "only_when_data", "last_period_end"]
    list_filter = ["enabled", "kind", "format"]


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(OpsOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "email", "status", "method", "attempts", "sent_at", "report"]
    list_filter = ["status", "method"]
    readonly_fields = ["report", "recipient", "email", "status", "method", "attempts", "error", "created_at", "sent_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
