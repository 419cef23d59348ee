import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from batches import fill


class ProductionBatch(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CONFIRMED = "confirmed", "Confirmed"
        ADMIN_REVIEW = "admin_review", "Admin review"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product_type = models.SlugField(max_length=50)
    supplier = models.ForeignKey("suppliers.Supplier", on_delete=models.PROTECT, related_name="batches")
    offer = models.ForeignKey("suppliers.SupplierOffer", on_delete=models.PROTECT, related_name="batches")
    batch_status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    target_quantity = models.PositiveIntegerField()
    current_quantity = models.PositiveIntegerField(default=0)
    # Distinct style names pooled so far; compared with the offer's max_styles.
    styles = models.JSONField(default=list)
    max_styles = models.PositiveIntegerField()
    # Supplier tier price at the target quantity, frozen when the batch opens.
    supplier_unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    # The supplier's score when matching chose it for this batch (null: a new supplier, not scored).
    matched_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    # Fill in basis points (7500 = 75%), computed by the database so the sweep
    # can find due batches through an index instead of scanning open ones.
    fill_basis_points = models.GeneratedField(
        expression=F("current_quantity") * 10000 / F("target_quantity"),
        output_field=models.IntegerField(),
        db_persist=True,
    )
    window_closes_at = models.DateTimeField()
    nearing_target_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    review_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "production batches"
        # Approve, cancel and extend from the review queue: the ops role's decisions (see roles.py).
        permissions = [("decide_productionbatch", "Can decide batches in review (approve, cancel, extend)")]
        constraints = [
            models.CheckConstraint(
                condition=Q(current_quantity__gte=0) & Q(current_quantity__lte=F("target_quantity")),
                name="batch_quantity_within_target",
            ),
            models.CheckConstraint(condition=Q(target_quantity__gt=0), name="batch_target_positive"),
        ]
        indexes = [
            # Pooling: the open batches of a product type with room for an order. By room, so
            # that the near-full batches waiting for their decision are skipped in the index:
            # filtered row by row instead, they made each claim's lookup grow with the backlog.
            models.Index(
                F("product_type"),
                F("target_quantity") - F("current_quantity"),
                condition=Q(batch_status="open"),
                name="batch_open_room_idx",
            ),
            # Sweep: open batches whose window has closed ...
            models.Index(fields=["window_closes_at"], condition=Q(batch_status="open"), name="batch_open_window_idx"),
            # ... or whose fill calls for a decision or an event.
            models.Index(fields=["fill_basis_points"], condition=Q(batch_status="open"), name="batch_open_fill_idx"),
            # ... or that still owe their nearing_target event: most open batches past 60% have
            # had it, and without this index an idle sweep would read all of them to find none.
            models.Index(
                fields=["fill_basis_points"],
                condition=Q(batch_status="open", nearing_target_at__isnull=True),
                name="batch_open_not_nearing_idx",
            ),
            models.Index(fields=["batch_status", "created_at"], name="batch_status_created_idx"),
        ]

    def __str__(self):
        return f"{self.product_type} batch {str(self.id)[:8]} ({self.current_quantity}/{self.target_quantity})"

    @property
    def fill_percent(self):
        return fill.fill_percent(current_quantity=self.current_quantity, target_quantity=self.target_quantity)


class BatchInReview(ProductionBatch):
    """The admin's review queue: the same rows, shown as the batches waiting for an ops decision."""

    class Meta:
        proxy = True
        verbose_name = "batch in review"
        verbose_name_plural = "batches in review"


class BatchContribution(models.Model):
    batch = models.ForeignKey(ProductionBatch, on_delete=models.PROTECT, related_name="contributions")
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="contribution")
    quantity_contributed = models.PositiveIntegerField()
    style_details = models.JSONField(default=list)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    committed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity_contributed__gt=0), name="contribution_quantity_positive")
        ]

    def __str__(self):
        return f"{self.quantity_contributed} of {self.order_id} in {self.batch_id}"


class BatchEvent(models.Model):
    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        NEARING_TARGET = "nearing_target", "Nearing target"
        CONFIRMED = "confirmed", "Confirmed"
        ADMIN_REVIEW = "admin_review", "Sent to admin review"
        CANCELLED = "cancelled", "Cancelled"
        EXTENDED = "extended", "Window extended"

    batch = models.ForeignKey(ProductionBatch, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    fill_percent = models.DecimalField(max_digits=5, decimal_places=2)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    correlation_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Events that can happen only once in a batch's life; the constraint
            # makes a repeated or concurrent sweep unable to write a second one.
            models.UniqueConstraint(
                fields=["batch", "kind"],
                condition=Q(kind__in=["created", "nearing_target", "confirmed", "cancelled"]),
                name="batch_event_once_per_batch",
            )
        ]
        indexes = [models.Index(fields=["batch", "created_at"], name="batch_event_batch_idx")]

    def __str__(self):
        return f"{self.kind} {self.batch_id}"
