"""Writes for suppliers: supplier orders (for a confirmed batch or a direct order), memberships,
a supplier's contact and bank details."""

import copy
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from sleekbatch import sql
from sleekbatch.audit import Action, audit_diff, audit_record
from sleekbatch.business_events import BusinessKind, business_events_insert
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


# The supplier orders a placement wrote, as the query of ``supplier_orders_insert`` names them.
SUPPLIER_ORDERS = "supplier_orders"
# The columns a line query gives, named as SupplierOrder's columns, plus ``lead_time_days`` (an integer).
LINE_FIELDS = ("supplier", "batch", "buyer_order", "product_type", "quantity", "supplier_price", "correlation_id")


def supplier_orders_insert(lines: sql.Sql, *, count: int, now: datetime) -> dict[str, sql.Sql]:
    """The statements that place one supplier order per row of ``lines``, promised ``lead_time_days``
    after today: the only place ``SupplierOrder`` rows are made (a confirmation's sweep and
    pooling's direct orders both come here).

    ``lines`` is a SELECT with the columns of ``LINE_FIELDS`` and ``lead_time_days``, at most
    ``count`` rows; it may read the queries of the caller's ``sql.with_queries``. Returns
    ``{SUPPLIER_ORDERS: insert, "supplier_order_events": business events}``, to run in this order:
    on PostgreSQL as queries of one statement (the insert returns its rows, the events read them
    as ``supplier_orders``), on SQLite one by one. ``batch`` and ``buyer_order`` are one-to-one,
    so a batch or a buyer order can never get a second supplier order, however often the caller
    is retried.
    """
    numbers = [new_supplier_order_number() for _ in range(count)]
    numbered = sql.numbered_texts(numbers, alias="num")
    quote = connection.ops.quote_name
    source = sql.Sql(
        f"FROM (SELECT x.*, row_number() OVER () AS line_no FROM ({lines.sql}) x) l"
        f" INNER JOIN {numbered.sql} ON num.n = l.line_no",
        lines.params + numbered.params,
    )
    values = {name: sql.Sql(f"l.{sql.column(SupplierOrder, name)}") for name in LINE_FIELDS}
    insert = sql.insert_select(
        SupplierOrder,
        {
            "id": sql.random_uuid(),
            "order_number": sql.Sql("num.value"),
            **values,
            "status": SupplierOrder.Status.PLACED,
            "promised_date": sql.date_plus_days(timezone.localdate(now), sql.Sql(f"l.{quote('lead_time_days')}")),
            "created_at": now,
        },
        source,
    )
    if connection.vendor == "postgresql":
        insert = sql.Sql(f"{insert.sql} RETURNING *", insert.params)
        placed = sql.Sql(f"FROM {SUPPLIER_ORDERS} s")
    else:
        placed = sql.Sql(
            f"FROM {sql.table(SupplierOrder)} s INNER JOIN {numbered.sql}"
            f" ON num.value = s.{sql.column(SupplierOrder, 'order_number')}",
            numbered.params,
        )
    writes = {SUPPLIER_ORDERS: insert}
    events = _placed_events(placed, now=now)
    if events is not None:
        writes["supplier_order_events"] = events
    return writes


def _placed_events(placed: sql.Sql, *, now: datetime) -> sql.Sql | None:
    """One supplier_order_placed business event per supplier order of ``placed`` (rows as ``s``)."""

    def column(name: str) -> sql.Sql:
        return sql.Sql(f"s.{sql.column(SupplierOrder, name)}")

    return business_events_insert(
        {
            "kind": BusinessKind.SUPPLIER_ORDER_PLACED,
            "occurred_at": now,
            "product_type": column("product_type"),
            "batch_id": column("batch"),
            "order_id": column("buyer_order"),
            "supplier_id": column("supplier"),
            "quantity": column("quantity"),
            "amount": sql.Sql(f"{column('quantity').sql} * {column('supplier_price').sql}"),
            "correlation_id": column("correlation_id"),
        },
        placed,
    )


def supplier_orders_place(*, lines: list[SupplierOrderLine], now: datetime | None = None) -> int:
    """Place one supplier order per line given from Python (pooling's direct orders) through
    ``supplier_orders_insert``, inside the caller's transaction; the number placed."""
    if not lines:
        return 0
    now = now or timezone.now()
    selects = []
    for line in lines:
        values = {
            "supplier": line.supplier_id,
            "batch": line.batch_id,
            "buyer_order": line.buyer_order_id,
            "product_type": line.product_type,
            "quantity": line.quantity,
            "supplier_price": line.supplier_price,
            "correlation_id": line.correlation_id,
        }
        typed = [sql.constant(SupplierOrder, name, values[name]) for name in LINE_FIELDS]
        columns = ", ".join(
            f"{value.sql} AS {sql.column(SupplierOrder, name)}" for name, value in zip(LINE_FIELDS, typed, strict=True)
        )
        selects.append(
            sql.Sql(
                f"SELECT {columns}, CAST(%s AS integer) AS {connection.ops.quote_name('lead_time_days')}",
                (*(param for value in typed for param in value.params), line.lead_time_days),
            )
        )
    params = tuple(param for select in selects for param in select.params)
    lines_sql = sql.Sql(" UNION ALL ".join(select.sql for select in selects), params)
    writes = supplier_orders_insert(lines_sql, count=len(lines), now=now)
    if connection.vendor == "postgresql":
        queries = [(name, write) for name, write in writes.items()]
        (placed,) = sql.fetch_one(sql.with_queries(queries, sql.Sql(f"SELECT count(*) FROM {SUPPLIER_ORDERS}")))
        return placed
    placed = sql.execute(writes[SUPPLIER_ORDERS])
    if "supplier_order_events" in writes:
        sql.execute(writes["supplier_order_events"])
    return placed


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
