from rest_framework import serializers

from batches.models import ProductionBatch
from batches.state import MAX_EXTEND_HOURS


class BatchSerializer(serializers.ModelSerializer):
    fill_percent = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    supplier = serializers.CharField(source="supplier.name", read_only=True)
    supplier_order_number = serializers.SerializerMethodField()

    class Meta:
        model = ProductionBatch
        fields = [
            "id",
            "product_type",
            "supplier",
            "matched_score",
            "batch_status",
            "target_quantity",
            "current_quantity",
            "fill_percent",
            "window_closes_at",
            "nearing_target_at",
            "review_started_at",
            "confirmed_at",
            "cancelled_at",
            "supplier_order_number",
            "created_at",
        ]
        read_only_fields = fields

    def get_supplier_order_number(self, batch) -> str | None:
        supplier_order = getattr(batch, "supplier_order", None)
        return supplier_order.order_number if supplier_order else None


class BatchExtendSerializer(serializers.Serializer):
    hours = serializers.IntegerField(min_value=1, max_value=MAX_EXTEND_HOURS)


class BatchDecisionRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    batch_status = serializers.CharField()
