from django.contrib import admin

from sleekbatch.admin_mixins import WorkflowOwnedAdmin
from suppliers.forms import SupplierOfferForm
from suppliers.models import Supplier, SupplierMembership, SupplierOffer, SupplierOrder


class SupplierOfferInline(admin.StackedInline):
    model = SupplierOffer
    form = SupplierOfferForm
    extra = 0


class SupplierMembershipInline(admin.TabularInline):
    model = SupplierMembership
    extra = 0
    raw_id_fields = ["user"]
    verbose_name = "supplier user"


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "performance_score", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "code", "contact_email"]
    # Computed from delivery history, not typed in.
    readonly_fields = ["performance_score"]
    inlines = [SupplierOfferInline, SupplierMembershipInline]


@admin.register(SupplierOffer)
class SupplierOfferAdmin(admin.ModelAdmin):
    form = SupplierOfferForm
    list_display = ["supplier", "product_type", "moq", "max_styles", "lead_time_days", "is_active"]
    list_filter = ["product_type", "is_active"]
    search_fields = ["supplier__name", "product_type"]
    list_select_related = ["supplier"]


@admin.register(SupplierOrder)
class SupplierOrderAdmin(WorkflowOwnedAdmin, admin.ModelAdmin):
    list_display = ["order_number", "supplier", "product_type", "quantity", "supplier_price", "status", "created_at"]
    list_filter = ["status", "product_type", "supplier"]
    search_fields = ["order_number", "supplier__name", "batch__id", "buyer_order__id"]
    list_select_related = ["supplier"]
    date_hierarchy = "created_at"
