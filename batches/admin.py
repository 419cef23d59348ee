import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Sum
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from batches import state
from batches.models import BatchContribution, BatchEvent, BatchInReview, ProductionBatch
from batches.selectors import batch_decision_previews, batches_in_review
from orders.models import Refund
from sleekbatch.admin_mixins import AuditedAdmin, WorkflowOwnedAdmin
from suppliers.models import SupplierOrder
from suppliers.pricing import to_cents

# Orders listed in a review-queue row before "and N more" (the change page lists them all).
ORDERS_SHOWN_PER_ROW = 5


class BatchContributionInline(WorkflowOwnedAdmin, admin.TabularInline):
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


class BatchEventInline(WorkflowOwnedAdmin, admin.TabularInline):
    model = BatchEvent
    extra = 0
    fields = ["kind", "from_status", "to_status", "fill_percent", "actor", "correlation_id", "created_at"]
    readonly_fields = fields


def _fill(obj):
    return f"{obj.fill_percent}%"


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "M j, H:i") if moment else "–"


def _short_id(obj) -> str:
    # The first 8 hex digits of a UUID: unique enough to tell batches apart on a page, and
    # searchable (search_fields match the id), so the lists fit a laptop screen.
    return str(obj.id)[:8]


@admin.register(ProductionBatch)
class ProductionBatchAdmin(AuditedAdmin, WorkflowOwnedAdmin, admin.ModelAdmin):
    list_display = ["batch", "product_type", "supplier", "status", "fill", "window_closes", "created"]
    list_filter = ["batch_status", "product_type", "supplier"]
    search_fields = ["id", "product_type", "supplier__name"]
    list_select_related = ["supplier"]
    inlines = [BatchContributionInline, BatchEventInline]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="Batch", ordering="id")
    def batch(self, obj):
        return _short_id(obj)

    @admin.display(description="Status", ordering="batch_status")
    def status(self, obj):
        return obj.get_batch_status_display()

    @admin.display(description="Fill (current / target)", ordering="fill_basis_points")
    def fill(self, obj):
        return f"{_fill(obj)} ({obj.current_quantity} / {obj.target_quantity})"

    @admin.display(description="Window closes", ordering="window_closes_at")
    def window_closes(self, obj):
        return _when(obj.window_closes_at)

    @admin.display(description="Created", ordering="created_at")
    def created(self, obj):
        return _when(obj.created_at)


class ExtendWindowActionForm(ActionForm):
    # Checked by the action, not the form: an action form that fails validation makes the
    # admin answer "No action selected", which says nothing about the hours.
    hours = forms.CharField(
        required=False,
        initial=24,
        label="Hours to extend:",
        widget=forms.NumberInput(attrs={"style": "width: 5em"}),
    )


def _hours_to_extend(value) -> int | None:
    field = forms.IntegerField(min_value=1, max_value=state.MAX_EXTEND_HOURS)
    try:
        return field.clean(value)
    except ValidationError:
        return None


@admin.register(BatchInReview)
class ReviewQueueAdmin(WorkflowOwnedAdmin, admin.ModelAdmin):
    """Batches whose window closed between the review and confirm thresholds, waiting for ops.

    Approve and cancel first show a confirmation page with what they will do (the supplier
    order and its total, the refunds and their sum); every decision goes through batches.state.
    """

    action_form = ExtendWindowActionForm
    actions = ["approve", "cancel_and_refund", "extend_window"]
    list_display = ["batch", "product_type", "supplier", "fill", "window", "age", "orders_inside"]
    search_fields = ["id", "product_type", "supplier__name"]
    ordering = ["review_started_at", "created_at"]
    inlines = [BatchContributionInline, BatchEventInline]
    list_per_page = 50

    def has_decide_permission(self, request):
        return request.user.has_perm("batches.decide_productionbatch")

    def get_queryset(self, request):
        contributions = BatchContribution.objects.select_related("order__buyer").order_by("committed_at")
        return batches_in_review().prefetch_related(Prefetch("contributions", queryset=contributions))

    def changelist_view(self, request, extra_context=None):
        title = "Batches waiting for a decision"
        return super().changelist_view(request, extra_context={"title": title, **(extra_context or {})})

    @admin.display(description="Batch", ordering="id")
    def batch(self, obj):
        return _short_id(obj)

    @admin.display(description="Fill (current / target)", ordering="fill_basis_points")
    def fill(self, obj):
        return f"{_fill(obj)} ({obj.current_quantity} / {obj.target_quantity})"

    @admin.display(description="Window closed", ordering="window_closes_at")
    def window(self, obj):
        return _when(obj.window_closes_at)

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

    def _decide(self, request, queryset, decide):
        """``decide(batch_id)`` for each chosen batch; it returns the success message for that batch."""
        for batch_id in self._chosen_batch_ids(request, queryset):
            try:
                message = decide(batch_id)
            except state.BatchTransitionError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, message, messages.SUCCESS)

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

    def _confirmation_page(self, request, queryset, *, action: str, title: str, button: str):
        """What the decision will do, with a button that posts the same selection back, confirmed."""
        batch_ids = self._chosen_batch_ids(request, queryset)
        previews = batch_decision_previews(batch_ids)
        in_review = {preview.batch.id for preview in previews}
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "action": action,
            "button": button,
            "previews": previews,
            "gone": [str(batch_id)[:8] for batch_id in batch_ids if batch_id not in in_review],
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "supplier_orders_total": sum((p.supplier_order_total for p in previews), Decimal("0.00")),
            "refunds_total": sum((p.refund_total for p in previews), Decimal("0.00")),
            "refunds_count": sum(len(p.orders) for p in previews),
        }
        return TemplateResponse(request, "admin/batches/batchinreview/confirm_decision.html", context)

    @staticmethod
    def _confirmed(request) -> bool:
        return request.POST.get("confirmed") == "yes"

    @admin.action(description="Approve (confirm, place supplier order)…", permissions=["decide"])
    def approve(self, request, queryset):
        if not self._confirmed(request):
            return self._confirmation_page(
                request, queryset, action="approve", title="Approve and place supplier orders?", button="Yes, approve"
            )

        def decide(batch_id):
            batch = state.review_approve(batch_id=batch_id, actor=request.user)
            placed = SupplierOrder.objects.get(batch=batch)
            return (
                f"Approved batch {_short_id(batch)}: supplier order {placed.order_number} placed with "
                f"{batch.supplier.name}, {placed.quantity} units × {placed.supplier_price} = "
                f"{to_cents(placed.supplier_price * placed.quantity)}."
            )

        self._decide(request, queryset, decide)

    @admin.action(description="Cancel and refund…", permissions=["decide"])
    def cancel_and_refund(self, request, queryset):
        if not self._confirmed(request):
            return self._confirmation_page(
                request,
                queryset,
                action="cancel_and_refund",
                title="Cancel and refund every order?",
                button="Yes, cancel and refund",
            )

        def decide(batch_id):
            batch = state.review_cancel(batch_id=batch_id, actor=request.user)
            refunds = Refund.objects.filter(order__contribution__batch=batch).aggregate(
                count=Count("id"), total=Sum("amount")
            )
            return (
                f"Cancelled batch {_short_id(batch)}: {refunds['count']} order(s) refunded, "
                f"{to_cents(Decimal(refunds['total'] or 0))} in total."
            )

        self._decide(request, queryset, decide)

    @admin.action(description="Extend window by hours", permissions=["decide"])
    def extend_window(self, request, queryset):
        hours = _hours_to_extend(request.POST.get("hours"))
        if hours is None:
            self.message_user(
                request,
                f"Give the number of hours to extend by: 1 to {state.MAX_EXTEND_HOURS} hours. Nothing was changed.",
                messages.ERROR,
            )
            return

        def decide(batch_id):
            batch = state.review_extend_window(batch_id=batch_id, hours=hours, actor=request.user)
            closes = date_format(timezone.localtime(batch.window_closes_at), "M j, H:i")
            return f"Extended batch {_short_id(batch)} by {hours} h: open again until {closes}."

        self._decide(request, queryset, decide)


@admin.register(BatchContribution)
class BatchContributionAdmin(WorkflowOwnedAdmin, admin.ModelAdmin):
    list_display = ["order", "batch", "quantity_contributed", "unit_price", "committed_at"]
    search_fields = ["order__id", "batch__id"]
    list_select_related = ["order", "batch"]


@admin.register(BatchEvent)
class BatchEventAdmin(WorkflowOwnedAdmin, admin.ModelAdmin):
    list_display = ["batch", "kind", "from_status", "to_status", "fill_percent", "actor", "created_at"]
    list_filter = ["kind"]
    search_fields = ["batch__id", "correlation_id"]
    list_select_related = ["batch", "actor"]
