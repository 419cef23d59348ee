from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format

from orders.models import Order, Refund
from sleekbatch.admin_mixins import AuditedAdmin, WorkflowOwnedAdmin


@admin.register(Order)
class OrderAdmin(AuditedAdmin, WorkflowOwnedAdmin, admin.ModelAdmin):
    list_display = ["short_id", "buyer", "product_type", "quantity", "status", "total_price", "created"]
    list_filter = ["workflow_status", "is_batch_order", "product_type"]
    search_fields = ["id", "buyer__username", "idempotency_key", "correlation_id"]
    list_select_related = ["buyer"]
    date_hierarchy = "created_at"
    show_full_result_count = False  # COUNT(*) over millions of orders on every page is slow

    @admin.display(description="Order", ordering="id")
    def short_id(self, obj):
        return str(obj.id)[:8]

    @admin.display(description="Status", ordering="workflow_status")
    def status(self, obj):
        return obj.get_workflow_status_display()

    @admin.display(description="Created", ordering="created_at")
    def created(self, obj):
        # Short, so the list fits a laptop screen beside its filters.
        return date_format(timezone.localtime(obj.created_at), "M j, H:i")


@admin.register(Refund)
class RefundAdmin(WorkflowOwnedAdmin, admin.ModelAdmin):
    list_display = ["order", "amount", "reason", "created_at"]
    search_fields = ["order__id", "reason"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
