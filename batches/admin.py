import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from batches import state
from batches.models import BatchContribution, BatchEvent, BatchInReview, ProductionBatch
from batches.selectors import batches_in_review
from sleekbatch.roles import OPS, has_role

# Orders listed in a review-queue row before "and N more" (the change page lists them all).
ORDERS_SHOWN_PER_ROW = 5


class OpsCanViewMixin:
    """Ops (a role, not a set of model permissions) may look; nobody edits a batch by hand.

    Every change of a batch goes through batches.state, so the admin offers actions, not forms.
    """

    def has_module_permission(self, request):
        return has_role(request.user, OPS) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, OPS) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class BatchContributionInline(OpsCanViewMixin, admin.TabularInline):
    model = BatchContribution
    extra = 0
    fields = ["order", "buyer", "quantity_contributed", "unit_price", "order_total", "order_status", "committed_at"]
    readonly_fields = fields

    @admin.display(description="Buyer")
    def buyer(self, obj):
        return obj.order.buyer

    @admin.display(description="Order total")
    def order_total(self, obj):
        return obj.order.total_price

    @admin.display(description="Order status")
    def order_status(self, obj):
        return obj.order.get_workflow_status_display()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order__buyer")


class BatchEventInline(OpsCanViewMixin, admin.TabularInline):
    model = BatchEvent
    extra = 0
    fields = ["kind", "from_status", "to_status", "fill_percent", "actor", "correlation_id", "created_at"]
    readonly_fields = fields


def _fill(obj):
    return f"{obj.fill_percent}%"


@admin.register(ProductionBatch)
class ProductionBatchAdmin(OpsCanViewMixin, admin.ModelAdmin):
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
    inlines = [BatchContributionInline, BatchEventInline]
    date_hierarchy = "created_at"

    @admin.display(description="Fill", ordering="fill_basis_points")
    def fill(self, obj):
        return _fill(obj)


class ExtendWindowActionForm(ActionForm):
    hours = forms.IntegerField(
        min_value=1,
        max_value=state.MAX_EXTEND_HOURS,
        required=False,
        initial=24,
        label="Hours to extend:",
        widget=forms.NumberInput(attrs={"style": "width: 5em"}),
    )


@admin.register(BatchInReview)
class ReviewQueueAdmin(OpsCanViewMixin, admin.ModelAdmin):
    """Batches whose window closed between the review and confirm thresholds, waiting for ops."""

    action_form = ExtendWindowActionForm
    actions = ["approve", "cancel_and_refund", "extend_window"]
    list_display = ["batch", "product_type", "supplier", "fill", "window", "age", "orders_inside"]
    search_fields = ["id", "product_type", "supplier__name"]
    ordering = ["review_started_at", "created_at"]
    inlines = [BatchContributionInline, BatchEventInline]
    list_per_page = 50

    def get_queryset(self, request):
        contributions = BatchContribution.objects.select_related("order__buyer").order_by("committed_at")
        return batches_in_review().prefetch_related(Prefetch("contributions", queryset=contributions))

    def changelist_view(self, request, extra_context=None):
        title = "Batches waiting for a decision"
        return super().changelist_view(request, extra_context={"title": title, **(extra_context or {})})

    @admin.display(description="Batch", ordering="id")
    def batch(self, obj):
        return str(obj.id)[:8]

    @admin.display(description="Fill (current / target)", ordering="fill_basis_points")
    def fill(self, obj):
        return f"{_fill(obj)} ({obj.current_quantity} / {obj.target_quantity})"

    @admin.display(description="Window closed", ordering="window_closes_at")
    def window(self, obj):
        return date_format(timezone.localtime(obj.window_closes_at), "M j, H:i")

    @admin.display(description="Age", ordering="created_at")
    def age(self, obj):
        age = timesince(obj.created_at, timezone.now(), depth=1)
        if obj.review_started_at:
            return f"{age}, in review {timesince(obj.review_started_at, timezone.now(), depth=1)}"
        return age

    @admin.display(description="Orders")
    def orders_inside(self, obj):
        contributions = list(obj.contributions.all())
        lines = format_html_join(
            "",
            "<div>{} · {} units · {}</div>",
            (
                (c.order.buyer.get_username(), c.quantity_contributed, c.order.total_price)
                for c in contributions[:ORDERS_SHOWN_PER_ROW]
            ),
        )
        hidden = len(contributions) - ORDERS_SHOWN_PER_ROW
        if hidden > 0:
            return format_html("{}<div>and {} more</div>", lines, hidden)
        return lines

    # --- decisions: each batch in its own transaction through the state machine ----------------

    def _decide(self, request, queryset, decide, done: str):
        decided, refused = [], []
        for batch_id in self._chosen_batch_ids(request, queryset):
            try:
                decide(batch_id)
            except state.BatchTransitionError as exc:
                refused.append(str(exc))
            else:
                decided.append(str(batch_id)[:8])
        if decided:
            self.message_user(request, f"{done}: {', '.join(decided)}.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    @staticmethod
    def _chosen_batch_ids(request, queryset) -> list:
        """The batches still in review, plus those ticked on a page loaded before someone else decided.

        The queue's queryset silently drops a batch that left review since the page was loaded;
        handing its id to the state machine anyway turns that into a clear refusal message.
        """
        ids = list(queryset.values_list("id", flat=True))
        if request.POST.get("select_across") != "1":
            known = {str(batch_id) for batch_id in ids}
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                try:
                    batch_id = uuid.UUID(value)
                except ValueError:
                    continue
                if str(batch_id) not in known:
                    ids.append(batch_id)
        return ids

    @admin.action(description="Approve (confirm, place supplier order)")
    def approve(self, request, queryset):
        self._decide(
            request,
            queryset,
            lambda batch_id: state.batch_approve(batch_id=batch_id, actor=request.user),
            "Approved, supplier order placed",
        )

    @admin.action(description="Cancel and refund")
    def cancel_and_refund(self, request, queryset):
        self._decide(
            request,
            queryset,
            lambda batch_id: state.batch_cancel(batch_id=batch_id, actor=request.user),
            "Cancelled and refunded",
        )

    @admin.action(description="Extend window by hours")
    def extend_window(self, request, queryset):
        try:
            hours = self.action_form.base_fields["hours"].clean(request.POST.get("hours"))
        except ValidationError:
            hours = None
        if not hours:
            self.message_user(
                request,
                f"Give the number of hours to extend by (1 to {state.MAX_EXTEND_HOURS}); nothing was changed.",
                messages.ERROR,
            )
            return
        self._decide(
            request,
            queryset,
            lambda batch_id: state.batch_extend_window(batch_id=batch_id, hours=hours, actor=request.user),
            f"Window extended by {hours} h, back to open",
        )


@admin.register(BatchContribution)
class BatchContributionAdmin(OpsCanViewMixin, admin.ModelAdmin):
    list_display = ["order", "batch", "quantity_contributed", "unit_price", "committed_at"]
    search_fields = ["order__id", "batch__id"]
    raw_id_fields = ["order", "batch"]


@admin.register(BatchEvent)
class BatchEventAdmin(OpsCanViewMixin, admin.ModelAdmin):
    list_display = ["batch", "kind", "from_status", "to_status", "fill_percent", "actor", "created_at"]
    list_filter = ["kind"]
    search_fields = ["batch__id", "correlation_id"]
    raw_id_fields = ["batch", "actor"]
