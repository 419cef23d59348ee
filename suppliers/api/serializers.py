from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from suppliers.bank_details import bic_normalise, iban_normalise, validate_bic, validate_iban
from suppliers.models import SupplierOrder

# The longest history GET /api/suppliers/{id}/performance/ returns (a year of daily snapshots).
MAX_HISTORY_DAYS = 366


class StrictIntegerField(serializers.IntegerField):
    """An integer in the JSON sense: "10", 10.0 and true are wrong types, not numbers."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class RejectUnknownFieldsSerializer(serializers.Serializer):
    """A field the API does not know is a 400, not something to drop (``delivered_unit`` is a typo)."""

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return attrs


class SupplierOrderSerializer(serializers.ModelSerializer):
    supplier = serializers.CharField(source="supplier.code", read_only=True)
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)

    class Meta:
        model = SupplierOrder
        fields = [
            "id",
            "order_number",
            "supplier",
            "supplier_name",
            "batch",
            "product_type",
            "quantity",
            "supplier_price",
            "status",
            "promised_date",
            "acknowledged_at",
            "shipped_at",
            "delivered_at",
            "cancelled_at",
            "delivered_units",
            "defective_units",
            "created_at",
        ]
        read_only_fields = fields


class AcknowledgeSerializer(RejectUnknownFieldsSerializer):
    promised_date = serializers.DateField(required=False)


class ShipSerializer(RejectUnknownFieldsSerializer):
    """No fields: shipping says only that the goods left."""


class DeliverSerializer(RejectUnknownFieldsSerializer):
    # Negative figures pass the field so that the lifecycle's checks, which the admin shares, say why.
    delivered_units = StrictIntegerField()
    defective_units = StrictIntegerField(default=0)
    delivered_at = serializers.DateTimeField(required=False, help_text="defaults to now")


class CancelSerializer(RejectUnknownFieldsSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class SupplierOrderRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    status = serializers.CharField()


class PerformanceQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=MAX_HISTORY_DAYS, default=90)


class ScoreFieldsSerializer(serializers.Serializer):
    score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    standing = serializers.CharField()
    on_time_rate = serializers.FloatField(allow_null=True)
    defect_ppm = serializers.IntegerField(allow_null=True)
    fill_rate = serializers.FloatField(allow_null=True)
    acknowledge_hours_p50 = serializers.FloatField(allow_null=True)
    lead_time_days_mean = serializers.FloatField(allow_null=True)
    lead_time_days_stdev = serializers.FloatField(allow_null=True)
    orders_counted = serializers.IntegerField()


class ScoreHistoryDaySerializer(ScoreFieldsSerializer):
    day = serializers.DateField()


class SupplierPerformanceSerializer(ScoreFieldsSerializer):
    supplier = serializers.DictField()
    as_of = serializers.DateField(allow_null=True, help_text="the day of the latest scoring run (null: never scored)")
    computed_at = serializers.DateTimeField(allow_null=True)
    window_days = serializers.IntegerField(allow_null=True)
    history = ScoreHistoryDaySerializer(many=True)


def _bank_check(check, normalise):
    def validate(value: str) -> str:
        if not value:
            return value
        try:
            check(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return normalise(value)

    return validate


class SupplierDetailsSerializer(RejectUnknownFieldsSerializer):
    """A supplier's contact person and bank details (encrypted at rest); PUT replaces all five."""

    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    contact_name = serializers.CharField(max_length=200, allow_blank=True)
    contact_phone = serializers.RegexField(
        r"^\+?[0-9 ()./-]{4,30}$",
        allow_blank=True,
        error_messages={"invalid": "A phone number: digits, spaces and + ( ) . / - only, 4 to 30 characters."},
    )
    bank_account_holder = serializers.CharField(max_length=200, allow_blank=True)
    bank_iban = serializers.CharField(max_length=64, allow_blank=True, help_text="IBAN, checked by its check digits")
    bank_bic = serializers.CharField(max_length=20, allow_blank=True, help_text="BIC/SWIFT code, 8 or 11 characters")

    validate_bank_iban = staticmethod(_bank_check(validate_iban, iban_normalise))
    validate_bank_bic = staticmethod(_bank_check(validate_bic, bic_normalise))
