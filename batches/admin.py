from django.contrib import admin

from batches.models import BatchContribution, BatchEvent, ProductionBatch


class BatchContributionInline(admin.TabularInline):
    model = BatchContribution
    extra = 0
    fields = ["order", "quantity_contributed", "unit_price", "committed_at"]
    readonly_fields = fields
    can_delete = False


class BatchEventInline(admin.TabularInline):
    model = BatchEvent
    extra = 0
    fields = ["kind", "from_status", "to_status", "fill_percent", "actor", "correlation_id", "created_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(ProductionBatch)
class ProductionBatchAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "product_type",
        "supplier",
        "batch_status",
        "current_quantity",
        "target_quantity",
        "fill",
        "window_closes_at",
        "created_at",
    ]
    list_filter = ["batch_status", "product_type", "supplier"]
    search_fields = ["id", "product_type", "supplier__name"]
    list_select_related = ["supplier"]
    readonly_fields = ["current_quantity", "fill_basis_points", "styles", "created_at", "updated_at"]
    inlines = [BatchContributionInline, BatchEventInline]
    date_hierarchy = "created_at"

    @admin.display(description="Fill", ordering="fill_basis_points")
    def fill(self, obj):
        return f"{obj.fill_percent}%"


@admin.register(BatchContribution)
class BatchContributionAdmin(admin.ModelAdmin):
    list_display = ["order", "batch", "quantity_contributed", "unit_price", "committed_at"]
    search_fields = ["order__id", "batch__id"]
    raw_id_fields = ["order", "batch"]


@admin.register(BatchEvent)
class BatchEventAdmin(admin.ModelAdmin):
    list_display = ["batch", "kind", "from_status", "to_status", "fill_percent", "actor", "created_at"]
    list_filter = ["kind"]
    search_fields = ["batch__id", "correlation_id"]
    raw_id_fields = ["batch", "actor"]
