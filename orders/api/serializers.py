"""Order intake: strict input validation and the order representation."""

from collections.abc import Mapping

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from orders.models import Order
from suppliers.catalog import catalog_lookup

STYLE_MAX_LENGTH = 50
COLOR_MAX_LENGTH = 30
SIZE_LABEL_MAX_LENGTH = 10


class StrictIntegerField(serializers.IntegerField):
    """An integer in the JSON sense: "10", 10.0 and true are wrong types, not numbers."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A JSON string; numbers are not silently turned into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# A field the API does not know is an error, not something to drop silently:
# a typo such as "quantiy" must not turn into an order with a default.
class RejectUnknownFieldsMixin:
    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, Mapping) else []
        errors = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not unknown:
                raise
            detail = exc.detail
            errors = dict(detail) if isinstance(detail, Mapping) else {api_settings.NON_FIELD_ERRORS_KEY: detail}
        for name in unknown:
            errors[name] = ["Unknown field."]
        if errors:
            raise serializers.ValidationError(errors)
        return value


class StyleItemSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """One style of an order; when any style gives sizes, every style does and they add up to the quantity."""

    style = StrictCharField(max_length=STYLE_MAX_LENGTH)
    color = StrictCharField(max_length=COLOR_MAX_LENGTH, required=False)
    sizes = serializers.DictField(child=StrictIntegerField(min_value=1), allow_empty=False, required=False)

    def validate_sizes(self, sizes: dict[str, int]) -> dict[str, int]:
        for label in sizes:
            if not label.strip() or len(label) > SIZE_LABEL_MAX_LENGTH:
                raise serializers.ValidationError(
                    f"Size label {label!r} must be 1 to {SIZE_LABEL_MAX_LENGTH} characters."
                )
        return sizes


class OrderInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """One order's fields, checked on their own (the catalogue check needs every order of a request)."""

    product_type = StrictCharField(max_length=Order._meta.get_field("product_type").max_length)
    quantity = StrictIntegerField(min_value=1, max_value=settings.ORDER_MAX_QUANTITY)
    style_details = serializers.ListField(child=StyleItemSerializer(), allow_empty=False)

    def validate(self, attrs):
        items = attrs["style_details"]
        with_sizes = [item for item in items if "sizes" in item]
        if with_sizes and len(with_sizes) != len(items):
            # Without a size split for every style, the sizes cannot be checked against the quantity.
            raise serializers.ValidationError({"style_details": ["Give sizes for every style or for none."]})
        if with_sizes:
            total = sum(sum(item["sizes"].values()) for item in items)
            if total != attrs["quantity"]:
                raise serializers.ValidationError(
                    {"style_details": [f"Sizes add up to {total}, but the quantity is {attrs['quantity']}."]}
                )
        return attrs


def catalog_errors(orders: list[dict]) -> dict[int, dict[str, list[str]]]:
    """Errors of the orders (by index) whose product type no active offer can make.

    One catalogue lookup for the whole request, however many orders it holds.
    """
    styles_needed: dict[str, int] = {}
    for order in orders:
        distinct_styles = len({item["style"] for item in order["style_details"]})
        styles_needed[order["product_type"]] = max(styles_needed.get(order["product_type"], 0), distinct_styles)
    catalog = catalog_lookup(product_types=set(styles_needed), styles_needed=styles_needed)

    errors: dict[int, dict[str, list[str]]] = {}
    for index, order in enumerate(orders):
        rules = catalog.get(order["product_type"])
        if rules is None:
            message = f"Unknown product type {order['product_type']!r}: no supplier offers it."
            errors[index] = {"product_type": [message]}
            continue
        distinct_styles = len({item["style"] for item in order["style_details"]})
        if distinct_styles > rules.max_styles:
            errors[index] = {
                "style_details": [
                    f"{distinct_styles} distinct styles, but suppliers of {rules.product_type!r} "
                    f"make at most {rules.max_styles} per batch."
                ]
            }
    return errors


class OrderSubmitSerializer(OrderInputSerializer):
    """An order to submit: its product type must have an active offer that can make this many styles."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        errors = catalog_errors([attrs])
        if errors:
            raise serializers.ValidationError(errors[0])
        return attrs


# One bound field tree, built once per process: DRF deep-copies and binds every declared
# field for each serializer instance, which was half the cost of validating an order.
# run_validation keeps no state on the serializer or its fields (is_valid does, on the
# instance), so threads can share it.
_ORDER_SUBMIT = OrderSubmitSerializer()
_ORDER_SUBMIT.fields["style_details"].child.fields  # noqa: B018 - bind the nested tree now, not in a request


def order_submit_validate(data) -> dict:
    """The validated fields of one order to submit, or ValidationError with exactly the errors
    ``OrderSubmitSerializer(data=data).is_valid()`` would report."""
    return _ORDER_SUBMIT.run_validation(data)


class OrderListField(serializers.ListField):
    """The orders of a bulk request: errors keyed by index, field errors and catalogue errors together."""

    def __init__(self, **kwargs):
        super().__init__(child=OrderInputSerializer(), allow_empty=False, **kwargs)

    def to_internal_value(self, data):
        # The length first, so an oversized request costs nothing to refuse.
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)

    def run_child_validation(self, data):
        orders, errors = {}, {}
        for index, item in enumerate(data):
            try:
                orders[index] = self.child.run_validation(item)
            except serializers.ValidationError as exc:
                errors[index] = exc.detail
        indexes = list(orders)
        for position, detail in catalog_errors([orders[index] for index in indexes]).items():
            errors[indexes[position]] = detail
        if errors:
            raise serializers.ValidationError(dict(sorted(errors.items())))
        return list(orders.values())


class OrderBulkSubmitSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Up to ORDER_BULK_MAX orders; errors are keyed by the index of the order."""

    orders = OrderListField(max_length=settings.ORDER_BULK_MAX)


# Shared, unbound fields that format values exactly as the declared fields would.
_MONEY = serializers.DecimalField(max_digits=12, decimal_places=2)
_TIMESTAMP = serializers.DateTimeField()


class OrderRefundSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    reason = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


def _refund_of(order: Order) -> dict | None:
    # The selectors read the refund with the order (select_related); a new order has none and
    # is not read again for it.
    if not Order.refund.related.is_cached(order):
        return None
    refund = getattr(order, "refund", None)
    if refund is None:
        return None
    return {
        "amount": _MONEY.to_representation(refund.amount),
        "reason": refund.reason,
        "created_at": _TIMESTAMP.to_representation(refund.created_at),
    }


def _date_or_none(value) -> str | None:
    return None if value is None else value.isoformat()


class OrderSerializer(serializers.Serializer):
    """An order as the API shows it. The declared fields document it (OpenAPI);
    to_representation builds the same dict directly, because DRF instantiates
    and binds a copy of every field for every serializer, which cost more than
    the rest of an order submission's Python code."""

    id = serializers.UUIDField(read_only=True)
    product_type = serializers.CharField(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    style_details = serializers.JSONField(read_only=True)
    workflow_status = serializers.ChoiceField(choices=Order.Status.choices, read_only=True)
    is_batch_order = serializers.BooleanField(read_only=True)
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True, allow_null=True)
    total_price = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, allow_null=True)
    rejection_reason = serializers.CharField(read_only=True)
    batch = serializers.SerializerMethodField()
    buyer = serializers.CharField(read_only=True, help_text="the buyer's username")
    refund = OrderRefundSerializer(read_only=True, allow_null=True, help_text="set once the order is refunded")
    expected_delivery = serializers.DateField(
        read_only=True, allow_null=True, help_text="the supplier's promised date, once a supplier order is placed"
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, order: Order) -> dict:
        return {
            "id": str(order.id),
            "product_type": order.product_type,
            "quantity": order.quantity,
            "style_details": order.style_details,
            "workflow_status": order.workflow_status,
            "is_batch_order": order.is_batch_order,
            "unit_price": None if order.unit_price is None else _MONEY.to_representation(order.unit_price),
            "total_price": None if order.total_price is None else _MONEY.to_representation(order.total_price),
            "rejection_reason": order.rejection_reason,
            "batch": self.get_batch(order),
            "buyer": order.buyer.get_username(),
            "refund": _refund_of(order),
            "expected_delivery": _date_or_none(getattr(order, "expected_delivery", None)),
            "created_at": _TIMESTAMP.to_representation(order.created_at),
            "updated_at": _TIMESTAMP.to_representation(order.updated_at),
        }

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_batch(self, order: Order) -> str | None:
        # The selectors annotate the batch id and the intake services set it to
        # None on new orders, so a page of orders costs no query per order.
        if hasattr(order, "contribution_batch_id"):
            batch_id = order.contribution_batch_id
        else:
            batch_id = Order.objects.filter(pk=order.pk).values_list("contribution__batch_id", flat=True).first()
        return str(batch_id) if batch_id else None
