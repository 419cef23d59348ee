import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from sleekbatch.encryption import EncryptedTextField
from suppliers.bank_details import bic_normalise, iban_normalise, validate_bic, validate_iban
from suppliers.pricing import validate_price_tiers
from suppliers.scoring import Standing


class Supplier(models.Model):
    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=50, unique=True)
    # In clear on purpose: the alert mail and the admin's search use it, and it is the supplier's
    # business address, not a person's. The contact person and the bank details are encrypted.
    contact_email = models.EmailField(blank=True)
    contact_name = EncryptedTextField(blank=True)
    contact_phone = EncryptedTextField(blank=True)
    bank_account_holder = EncryptedTextField(blank=True)
    bank_iban = EncryptedTextField("IBAN", blank=True, validators=[validate_iban])
    bank_bic = EncryptedTextField("BIC/SWIFT", blank=True, validators=[validate_bic])
    is_active = models.BooleanField(default=True)
    # The current scorecard's score (0–100) and standing, written by suppliers.scorecard and read
    # by matching. No score (null, standing "new") until enough deliveries: never a made-up default.
    performance_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    standing = models.CharField(max_length=10, choices=[(s.value, s.value) for s in Standing], default=Standing.NEW)
    scored_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        # Stored as the bank prints them in one word: the API and the admin agree on one form.
        self.bank_iban = iban_normalise(self.bank_iban)
        self.bank_bic = bic_normalise(self.bank_bic)


class SupplierMembership(models.Model):
    """A user with the ``supplier`` role belongs to exactly one supplier and sees only its data."""

    # One-to-one: a supplier user acting for two suppliers would make every scoping question ambiguous.
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supplier_membership")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["supplier", "user"]

    def __str__(self):
        return f"{self.user} @ {self.supplier}"


class SupplierOffer(models.Model):
    """What a supplier will make of one product type, and at what price.

    ``price_tiers`` is a list of all-units volume tiers, lowest first:
    ``[{"min_quantity": 1, "unit_price": "9.00"}, {"min_quantity": 200, "unit_price": "7.50"}]``
    (validated by ``suppliers.pricing.validate_price_tiers``).
    """

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="offers")
    product_type = models.SlugField(max_length=50)
    moq = models.PositiveIntegerField()
    lead_time_days = models.PositiveIntegerField(default=14)
    max_styles = models.PositiveIntegerField(default=3)
    price_tiers = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["supplier", "product_type"], name="offer_one_per_supplier_product"),
            models.CheckConstraint(condition=Q(moq__gt=0), name="offer_moq_positive"),
            models.CheckConstraint(condition=Q(max_styles__gt=0), name="offer_max_styles_positive"),
        ]
        indexes = [models.Index(fields=["product_type", "is_active"], name="offer_product_active_idx")]

    def __str__(self):
        return f"{self.supplier} · {self.product_type} (MOQ {self.moq})"

    def clean(self):
        try:
            validate_price_tiers(self.price_tiers)
        except ValidationError as error:
            raise ValidationError({"price_tiers": error.messages}) from error


class SupplierOrder(models.Model):
    """What a supplier was asked to make, and how it went (suppliers.lifecycle moves it).

    placed ──► acknowledged ──► shipped ──► delivered
    placed | acknowledged ──► cancelled
    """

    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_number = models.CharField(max_length=40, unique=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="supplier_orders")
    batch = models.OneToOneField(
        "batches.ProductionBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="supplier_order"
    )
    buyer_order = models.OneToOneField(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="direct_supplier_order"
    )
    product_type = models.SlugField(max_length=50)
    quantity = models.PositiveIntegerField()
    # Unit price the supplier charges (the tier price at this quantity).
    supplier_price = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLACED)
    promised_date = models.DateField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    delivered_units = models.PositiveIntegerField(null=True, blank=True)
    defective_units = models.PositiveIntegerField(default=0)
    # Facts of the delivery, worked out once by the transition that records it so that the
    # scorecard aggregates plain numbers over millions of rows (no per-row date arithmetic in SQL,
    # which PostgreSQL and SQLite spell differently). Judgements that depend on settings (the
    # on-time grace period) stay in the scorecard, which reads these.
    acknowledge_hours = models.FloatField(null=True, blank=True)  # placed → acknowledged
    lead_time_days = models.FloatField(null=True, blank=True)  # placed → delivered
    days_late = models.IntegerField(null=True, blank=True)  # delivery date − promised date (≤ 0: on time)
    correlation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("move_supplierorder", "Can move supplier orders along their lifecycle")]
        constraints = [
            # Either a pooled batch's order or one buyer's direct order, never both.
            models.CheckConstraint(
                condition=(Q(batch__isnull=False) & Q(buyer_order__isnull=True))
                | (Q(batch__isnull=True) & Q(buyer_order__isnull=False)),
                name="supplier_order_batch_xor_direct",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="supplier_order_quantity_positive"),
            models.CheckConstraint(
                condition=Q(delivered_units__isnull=True) | Q(defective_units__lte=F("delivered_units")),
                name="supplier_order_defects_within_delivery",
            ),
        ]
        indexes = [
            models.Index(fields=["supplier", "created_at"], name="supplier_order_supplier_idx"),
            # The scorecard of one supplier (on each delivery): its deliveries in the window.
            models.Index(
                fields=["supplier", "delivered_at"],
                condition=Q(status="delivered"),
                name="supplier_order_delivered_idx",
            ),
        ]

    def __str__(self):
        return self.order_number


class SupplierOrderEvent(models.Model):
    """Audit trail of a supplier order: who moved it, when, under which correlation id."""

    supplier_order = models.ForeignKey(SupplierOrder, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    correlation_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # No status is entered twice in a supplier order's life: a transition that slipped past
            # its compare-and-set fails loudly instead of recording a second delivery.
            models.UniqueConstraint(fields=["supplier_order", "to_status"], name="supplier_order_event_once")
        ]

    def __str__(self):
        return f"{self.supplier_order_id}: {self.from_status} → {self.to_status}"


class SupplierScoreSnapshot(models.Model):
    """A supplier's scorecard as computed on one day: one row per supplier and day, the last run wins."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="score_snapshots")
    day = models.DateField()
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    standing = models.CharField(max_length=10, choices=[(s.value, s.value) for s in Standing])
    on_time_rate = models.FloatField(null=True, blank=True)
    defect_ppm = models.IntegerField(null=True, blank=True)
    fill_rate = models.FloatField(null=True, blank=True)
    acknowledge_hours_p50 = models.FloatField(null=True, blank=True)
    lead_time_days_mean = models.FloatField(null=True, blank=True)
    lead_time_days_stdev = models.FloatField(null=True, blank=True)
    orders_counted = models.PositiveIntegerField()
    window_days = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["supplier", "-day"]
        constraints = [
            # Rerunning a day's scoring replaces that day's row (upsert on this key), never adds one.
            models.UniqueConstraint(fields=["supplier", "day"], name="score_snapshot_one_per_supplier_day"),
            models.CheckConstraint(
                condition=Q(on_time_rate__isnull=True) | Q(on_time_rate__gte=0, on_time_rate__lte=1),
                name="score_snapshot_on_time_rate_is_a_rate",
            ),
            models.CheckConstraint(
                condition=Q(fill_rate__isnull=True) | Q(fill_rate__gte=0, fill_rate__lte=1),
                name="score_snapshot_fill_rate_is_a_rate",
            ),
        ]

    def __str__(self):
        return f"{self.supplier_id} on {self.day}: {self.score} ({self.standing})"


class SupplierAlert(models.Model):
    """A supplier crossed a line: opened once per crossing, closed when it recovers."""

    class Kind(models.TextChoices):
        STANDING_DROPPED = "standing_dropped", "Standing dropped"
        ON_TIME_LOW = "on_time_low", "On-time rate below the threshold"
        DEFECTS_HIGH = "defects_high", "Defect ppm above the threshold"

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.CharField(max_length=300)
    # What was measured when the alert opened, and the line it crossed (for a standing drop: the
    # rank it dropped from, which is also where it recovers).
    value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField()
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            # One open alert per supplier and kind: a rerun or a concurrent run cannot open a second.
            models.UniqueConstraint(
                fields=["supplier", "kind"],
                condition=Q(closed_at__isnull=True),
                name="supplier_alert_one_open_per_kind",
            )
        ]
        indexes = [models.Index(fields=["closed_at", "-opened_at"], name="supplier_alert_open_idx")]

    def __str__(self):
        return self.message
