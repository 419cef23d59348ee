from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from sleekbatch.admin_mixins import AuditedAdmin, WorkflowOwnedAdmin
from sleekbatch.encryption import EncryptedTextField
from suppliers import lifecycle
from suppliers.charts import score_trend_svg
from suppliers.forms import SupplierOfferForm
from suppliers.models import (
    Supplier,
    SupplierAlert,
    SupplierMembership,
    SupplierOffer,
    SupplierOrder,
    SupplierOrderEvent,
    SupplierScoreSnapshot,
)
from suppliers.selectors import supplier_score_history, supplier_scorecard

# Days of daily scores the supplier page draws.
TREND_DAYS = 90


class SupplierOfferInline(admin.StackedInline):
    model = SupplierOffer
    form = SupplierOfferForm
    extra = 0


class SupplierMembershipInline(admin.TabularInline):
    model = SupplierMembership
    extra = 0
    raw_id_fields = ["user"]
    verbose_name = "supplier user"


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1%}"


def _number(value, spec: str = ",.1f") -> str:
    return "—" if value is None else format(value, spec)


@admin.register(Supplier)
class SupplierAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "code", "score", "standing", "is_active", "created_at"]
    list_filter = ["standing", "is_active"]
    search_fields = ["name", "code", "contact_email"]
    # Computed from delivery history (suppliers.scorecard), not typed in.
    readonly_fields = ["scorecard", "score_trend"]
    fieldsets = [
        (None, {"fields": ["name", "code", "is_active"]}),
        ("Contact", {"fields": ["contact_email", "contact_name", "contact_phone"]}),
        (
            "Bank details",
            {
                "fields": ["bank_account_holder", "bank_iban", "bank_bic"],
                "description": "Stored encrypted; shown only to ops and this supplier's users.",
            },
        ),
        ("Performance", {"fields": ["scorecard", "score_trend"]}),
    ]
    # Encrypted fields are text columns (a token is longer than its value), typed on one line.
    formfield_overrides = {
        EncryptedTextField: {"widget": forms.TextInput(attrs={"autocomplete": "off", "class": "vTextField"})}
    }
    inlines = [SupplierOfferInline, SupplierMembershipInline]

    @admin.display(description="Score", ordering="performance_score")
    def score(self, obj):
        return _number(supplier_scorecard(supplier_id=obj.pk).scorecard.score, ".2f")

    @admin.display(description="Scorecard")
    def scorecard(self, obj):
        if obj.pk is None:
            return "—"
        current = supplier_scorecard(supplier_id=obj.pk)
        card = current.scorecard
        if current.day is None:
            return "Not scored yet (the nightly run, or its next delivery, scores it)."
        rows = [
            ("Score", _number(card.score, ".2f")),
            ("Standing", card.standing.value),
            ("On-time rate", _percent(card.on_time_rate)),
            ("Defects (ppm)", _number(card.defect_ppm, ",d")),
            ("Fill rate", _percent(card.fill_rate)),
            ("Acknowledged within (median hours)", _number(card.acknowledge_hours_p50)),
            (
                "Lead time (mean ± stdev days)",
                f"{_number(card.lead_time_days_mean)} ± {_number(card.lead_time_days_stdev)}",
            ),
            ("Deliveries counted", card.orders_counted),
            ("As of", f"{current.day.isoformat()} (last {current.window_days} days)"),
        ]
        return format_html("<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))

    @admin.display(description="Score, last 90 days")
    def score_trend(self, obj):
        if obj.pk is None:
            return "—"
        history = supplier_score_history(supplier_id=obj.pk, days=TREND_DAYS)
        return score_trend_svg(
            [(snapshot.day, snapshot.score) for snapshot in history], days=TREND_DAYS, today=timezone.localdate()
        )


@admin.register(SupplierOffer)
class SupplierOfferAdmin(AuditedAdmin, admin.ModelAdmin):
    form = SupplierOfferForm
    list_display = ["supplier", "product_type", "moq", "max_styles", "lead_time_days", "is_active"]
    list_filter = ["product_type", "is_active"]
    search_fields = ["supplier__name", "product_type"]
    list_select_related = ["supplier"]


class SupplierOrderEventInline(WorkflowOwnedAdmin, admin.TabularInline):
    model = SupplierOrderEvent
    extra = 0
    fields = ["from_status", "to_status", "actor", "details", "correlation_id", "created_at"]
    readonly_fields = fields


class SupplierOrderActionForm(ActionForm):
    """The figures some moves need; the lifecycle checks them exactly as it does for the API."""

    promised_date = forms.DateField(required=False, label="Promised date (acknowledge):")
    delivered_units = forms.IntegerField(required=False, label="Delivered units:")
    defective_units = forms.IntegerField(required=False, initial=0, label="Defective units:")
    delivered_at = forms.DateTimeField(required=False, label="Delivered at (default now):")


@admin.register(SupplierOrder)
class SupplierOrderAdmin(AuditedAdmin, WorkflowOwnedAdmin, admin.ModelAdmin):
    """Supplier orders move only through suppliers.lifecycle: actions here, no editable field."""

    action_form = SupplierOrderActionForm
    actions = ["acknowledge", "ship", "deliver", "cancel"]
    list_display = [
        "order_number",
        "supplier",
        "product_type",
        "quantity",
        "supplier_price",
        "status",
        "promised_date",
        "delivered_at",
        "created_at",
    ]
    list_filter = ["status", "product_type", "supplier"]
    search_fields = ["order_number", "supplier__name", "batch__id", "buyer_order__id"]
    list_select_related = ["supplier"]
    date_hierarchy = "created_at"
    inlines = [SupplierOrderEventInline]

    def has_move_permission(self, request):
        return request.user.has_perm("suppliers.move_supplierorder")

    def _form_value(self, request, name):
        field = self.action_form.base_fields[name]
        try:
            return field.clean(request.POST.get(name) or None)
        except forms.ValidationError as exc:
            raise lifecycle.SupplierOrderInvalid({name: exc.messages}) from exc

    def _move_each(self, request, queryset, move, done: str):
        moved, refused = [], []
        for supplier_order in queryset.order_by("created_at"):
            try:
                move(supplier_order)
            except (lifecycle.SupplierOrderConflict, lifecycle.SupplierOrderInvalid) as exc:
                refused.append(f"{supplier_order.order_number}: {exc}")
            else:
                moved.append(supplier_order.order_number)
        if moved:
            self.message_user(request, f"{done}: {', '.join(moved)}.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    @admin.action(description="Acknowledge (with the promised date if none is set)", permissions=["move"])
    def acknowledge(self, request, queryset):
        def move(supplier_order):
            lifecycle.supplier_order_acknowledge(
                supplier_order_id=supplier_order.id,
                actor=request.user,
                promised_date=self._form_value(request, "promised_date"),
            )

        self._move_each(request, queryset, move, "Acknowledged")

    @admin.action(description="Mark shipped", permissions=["move"])
    def ship(self, request, queryset):
        self._move_each(
            request,
            queryset,
            lambda supplier_order: lifecycle.supplier_order_ship(
                supplier_order_id=supplier_order.id, actor=request.user
            ),
            "Shipped",
        )

    @admin.action(description="Record delivery (delivered and defective units)", permissions=["move"])
    def deliver(self, request, queryset):
        def move(supplier_order):
            delivered_units = self._form_value(request, "delivered_units")
            if delivered_units is None:
                raise lifecycle.SupplierOrderInvalid({"delivered_units": ["Give the delivered units."]})
            delivery = lifecycle.Delivery(
                delivered_units=delivered_units,
                defective_units=self._form_value(request, "defective_units") or 0,
                delivered_at=self._form_value(request, "delivered_at") or timezone.now(),
            )
            lifecycle.supplier_order_deliver(supplier_order_id=supplier_order.id, actor=request.user, delivery=delivery)

        self._move_each(request, queryset, move, "Delivered")

    @admin.action(description="Cancel (not shipped yet)", permissions=["move"])
    def cancel(self, request, queryset):
        self._move_each(
            request,
            queryset,
            lambda supplier_order: lifecycle.supplier_order_cancel(
                supplier_order_id=supplier_order.id, actor=request.user, reason="Cancelled by operations in the admin"
            ),
            "Cancelled",
        )


@admin.register(SupplierOrderEvent)
class SupplierOrderEventAdmin(WorkflowOwnedAdmin, admin.ModelAdmin):
    list_display = ["supplier_order", "from_status", "to_status", "actor", "correlation_id", "created_at"]
    list_filter = ["to_status"]
    search_fields = ["supplier_order__order_number", "correlation_id"]
    list_select_related = ["supplier_order", "actor"]


@admin.register(SupplierAlert)
class SupplierAlertAdmin(WorkflowOwnedAdmin, admin.ModelAdmin):
    """Opened and closed by the scoring runs (suppliers.alerts); listed here, open ones first."""

    list_display = ["message", "supplier", "kind", "opened_at", "closed_at", "notified_at"]
    list_filter = [("closed_at", admin.EmptyFieldListFilter), "kind"]
    search_fields = ["supplier__name", "message"]
    list_select_related = ["supplier"]
    date_hierarchy = "opened_at"


@admin.register(SupplierScoreSnapshot)
class SupplierScoreSnapshotAdmin(WorkflowOwnedAdmin, admin.ModelAdmin):
    list_display = ["supplier", "day", "score", "standing", "on_time_rate", "defect_ppm", "fill_rate", "orders_counted"]
    list_filter = ["standing"]
    search_fields = ["supplier__name"]
    list_select_related = ["supplier"]
    date_hierarchy = "day"
