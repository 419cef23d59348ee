from django.contrib import admin

from orders.models import Order, Refund


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "buyer",
        "product_type",
        "quantity",
        "workflow_status",
        "is_batch_order",
        "total_price",
        "created_at",
    ]
    list_filter = ["workflow_status", "is_batch_order", "product_type"]
    search_fields = ["id", "buyer__username", "idempotency_key", "correlation_id"]
    list_select_related = ["buyer"]
    raw_id_fields = ["buyer"]
    readonly_fields = ["id", "created_at", "updated_at", "pooled_at", "correlation_id", "request_fingerprint"]
    date_hierarchy = "created_at"
    show_full_result_count = False  # COUNT(*) over millions of orders on every page is slow


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ["order", "amount", "reason", "created_at"]
    search_fields = ["order__id", "reason"]
    raw_id_fields = ["order"]
    date_hierarchy = "created_at"
