"""Writes for suppliers: supplier orders (for a confirmed batch or a direct order), memberships,
a supplier's contact and bank details."""

import copy
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from sleekbatch import sql
from sleekbatch.audit import Action, audit_diff, audit_record
from sleekbatch.business_events import BusinessKind, business_events_write
from sleekbatch.roles import OPS, has_role
from suppliers.bank_details import bic_normalise, iban_normalise
from suppliers.models import Supplier, SupplierMembership, SupplierOrder
from suppliers.numbers import new_supplier_order_number

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SupplierOrderLine:
    """What to order from a supplier: for a pooled batch (``batch_id``) or one buyer's direct order
    (``buyer_order_id``), never both."""

    supplier_id: int
    product_type: str
    quantity: int
    supplier_price: Decimal  # the supplier's tier unit price at this quantity
    lead_time_days: int
    batch_id: object = None  # batches.ProductionBatch primary key (UUID)
    buyer_order_id: object = None  # orders.Order primary key (UUID)
    correlation_id: str = ""


def supplier_orders_place(*, lines: list[SupplierOrderLine], now: datetime | None = None) -> list[SupplierOrder]:
    """Place one supplier order per line, promised ``lead_time_days`` after today: the only place
    ``SupplierOrder`` rows are made.

    Runs inside the caller's transaction (a batch confirmation, pooling's claim). ``batch`` and
    ``buyer_order`` are one-to-one, so a batch or a buyer order can never get a second supplier
    order, however often the caller is retried.
    """
    today = timezone.localdate(now)
    placed = SupplierOrder.objects.bulk_create(
        SupplierOrder(
            order_number=new_supplier_order_number(),
            supplier_id=line.supplier_id,
            batch_id=line.batch_id,
            buyer_order_id=line.buyer_order_id,
            product_type=line.product_type,
            quantity=line.quantity,
            supplier_price=line.supplier_price,
            status=SupplierOrder.Status.PLACED,
            promised_date=today + timedelta(days=line.lead_time_days),
            correlation_id=line.correlation_id,
        )
        for line in lines
    )
    _record_placed(placed, now=now or timezone.now())
    return placed


def _record_placed(placed: list[SupplierOrder], *, now: datetime) -> None:
    """One supplier_order_placed business event per new supplier order, selected from their rows."""
    if not placed:
        return
    numbers = sql.in_list(SupplierOrder, "order_number", [order.order_number for order in placed])

    def column(name: str) -> sql.Sql:
        return sql.Sql(sql.column(SupplierOrder, name))

    business_events_write(
        {
            "kind": BusinessKind.SUPPLIER_ORDER_PLACED,
            "occurred_at": now,
            "product_type": column("product_type"),
            "batch_id": column("batch"),
            "order_id": column("buyer_order"),
            "supplier_id": column("supplier"),
            "quantity": column("quantity"),
            "amount": sql.Sql(
                f"{sql.column(SupplierOrder, 'quantity')} * {sql.column(SupplierOrder, 'supplier_price')}"
            ),
            "correlation_id": column("correlation_id"),
        },
        sql.Sql(
            f"FROM {sql.table(SupplierOrder)} WHERE {sql.column(SupplierOrder, 'order_number')} IN ({numbers.sql})",
            numbers.params,
        ),
    )


def supplier_membership_set(*, user, supplier: Supplier) -> SupplierMembership:
    """Make ``user`` act for ``supplier`` (a user belongs to one supplier; this moves it)."""
    membership, _ = SupplierMembership.objects.update_or_create(user=user, defaults={"supplier": supplier})
    return membership


SUPPLIER_DETAIL_FIELDS = ("contact_name", "contact_phone", "bank_account_holder", "bank_iban", "bank_bic")


@transaction.atomic(durable=True)
def supplier_details_set(*, supplier_id: int, actor, details: dict) -> Supplier:
    """Replace a supplier's contact person and bank details (validated by the caller); ops' changes
    are audited with the values masked."""
    supplier = Supplier.objects.select_for_update().get(id=supplier_id)
    before = copy.copy(supplier)
    for name in SUPPLIER_DETAIL_FIELDS:
        setattr(supplier, name, details.get(name, ""))
    supplier.bank_iban = iban_normalise(supplier.bank_iban)
    supplier.bank_bic = bic_normalise(supplier.bank_bic)
    supplier.save(update_fields=list(SUPPLIER_DETAIL_FIELDS))
    if has_role(actor, OPS):
        changed_before, changed_after = audit_diff(before, supplier)
        if changed_after:
            audit_record(
                actor=actor, action=Action.ADMIN_CHANGE, obj=supplier, before=changed_before, after=changed_after
            )
    logger.info("supplier.details_set", extra={"supplier_id": supplier.id})
    return supplier
