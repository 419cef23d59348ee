"""What buyers are told when their orders move: one notification per order, written by the statement
that moves them.

``notifications_insert`` is one ``INSERT … SELECT`` whose subject and body are built in SQL from
the order (and batch, supplier order) rows, so a transition records the notifications of all the
orders it moved in the same statement as the move (docs/batches.md). Rows already recorded for
the same order and event are skipped by the unique constraint.
"""

from collections.abc import Callable, Sequence
from datetime import datetime

from batches.models import BatchContribution, ProductionBatch
from orders.models import Notification, Order
from sleekbatch import sql
from suppliers.models import SupplierOrder

Kind = Notification.Kind


def _o(name: str) -> sql.Sql:
    return sql.Sql(f"o.{sql.column(Order, name)}")


def _order_label() -> sql.Sql:
    """``10 × tshirt (order 1a2b3c4d)``."""
    return sql.concat(_o("quantity"), " × ", _o("product_type"), " (order ", sql.text_prefix(_o("id"), 8), ")")


def _confirmed(**_) -> tuple[sql.Sql, sql.Sql]:
    number = sql.Sql(f"COALESCE(s.{sql.column(SupplierOrder, 'order_number')}, '—')")
    promised = sql.Sql(f"s.{sql.column(SupplierOrder, 'promised_date')}")
    expected = sql.concat(" Expected delivery: ", sql.date_text(promised), ".")
    expected = sql.Sql(f"COALESCE({expected.sql}, '')", expected.params)  # NULL when no date
    return (
        sql.concat("Confirmed: ", _order_label()),
        sql.concat(
            "Your order ", _order_label(), " is confirmed and in production (supplier order ", number, ").", expected
        ),
    )


def _refunded(*, reason: str, **_) -> tuple[sql.Sql, sql.Sql]:
    amount = sql.decimal_text(sql.Sql(f"COALESCE({_o('total_price').sql}, 0)"), 2)
    return (
        sql.concat("Refunded ", amount, ": ", _order_label()),
        sql.concat("Your order ", _order_label(), " was refunded in full (", amount, f"): {reason}."),
    )


def _in_review(**_) -> tuple[sql.Sql, sql.Sql]:
    fill = sql.decimal_text(sql.Sql(f"b.{sql.column(ProductionBatch, 'fill_basis_points')} / 100.0"), 2)
    return (
        sql.concat("In review: ", _order_label()),
        sql.concat(
            "The production batch of your order ",
            _order_label(),
            " closed at ",
            fill,
            "% of the supplier's minimum. Our operations team will confirm it, give it more time, or cancel and "
            "refund it; you will hear which.",
        ),
    )


def _extended(*, hours: int, **_) -> tuple[sql.Sql, sql.Sql]:
    closes = sql.datetime_text_utc(sql.Sql(f"b.{sql.column(ProductionBatch, 'window_closes_at')}"))
    return (
        sql.concat("More time to fill: ", _order_label()),
        sql.concat(
            "The production batch of your order ",
            _order_label(),
            f" has {hours} more hours to reach the supplier's minimum, until ",
            closes,
            " UTC.",
        ),
    )


def _rejected(**_) -> tuple[sql.Sql, sql.Sql]:
    return (
        sql.concat("Rejected: ", _order_label()),
        sql.concat("Your order ", _order_label(), " could not be placed: ", _o("rejection_reason")),
    )


_MESSAGES: dict[str, Callable[..., tuple[sql.Sql, sql.Sql]]] = {
    Kind.ORDER_CONFIRMED: _confirmed,
    Kind.ORDER_REFUNDED: _refunded,
    Kind.BATCH_IN_REVIEW: _in_review,
    Kind.BATCH_EXTENDED: _extended,
    Kind.ORDER_REJECTED: _rejected,
}
# Events a batch can go through more than once (review after an extension): each is its own event.
_REPEATABLE = {Kind.BATCH_IN_REVIEW, Kind.BATCH_EXTENDED}


def notifications_insert(kind: str, source: sql.Sql, *, now: datetime, **context) -> sql.Sql:
    """One notification of ``kind`` per order row of ``source`` (``FROM … WHERE …`` with the order
    as ``o``; ``b`` the batch and ``s`` its supplier order where the message reads them).

    ``context``: ``reason`` for refunds, ``hours`` for extensions. ``ON CONFLICT DO NOTHING``:
    a second sweep or a redelivered task inserts nothing.
    """
    subject, body = _MESSAGES[kind](**context)
    event_key = f"{kind}:{now.isoformat()}" if kind in _REPEATABLE else kind
    return sql.on_conflict_do_nothing(
        sql.insert_select(
            Notification,
            {
                "user": _o("buyer"),
                "order": _o("id"),
                "kind": kind,
                "event_key": event_key,
                "subject": sql.Sql(f"substr({subject.sql}, 1, 200)", subject.params),
                "body": body,
                "created_at": now,
            },
            source,
        )
    )


def batch_orders_source(batches: str, *, supplier_orders: str | None = None) -> sql.Sql:
    """The pooled orders of the batch rows named ``batches`` (a query of ``sql.with_queries``), with
    their supplier order as ``s`` from ``supplier_orders`` (a table or query with its columns) when named."""
    c, o, s = BatchContribution, Order, SupplierOrder
    batch_id = f"b.{sql.column(ProductionBatch, 'id')}"
    supplier_order = f" LEFT JOIN {supplier_orders} s ON s.{sql.column(s, 'batch')} = {batch_id}"
    return sql.Sql(
        f"FROM {batches} b INNER JOIN {sql.table(c)} c ON c.{sql.column(c, 'batch')} = {batch_id}"
        f" INNER JOIN {sql.table(o)} o ON o.{sql.column(o, 'id')} = c.{sql.column(c, 'order')}"
        f"{supplier_order if supplier_orders else ''}"
        f" WHERE o.{sql.column(o, 'workflow_status')} = %s",
        (Order.Status.POOLED.value,),
    )


def rejected_orders_source(orders: str, *, ids: Sequence | None = None) -> sql.Sql:
    """The rejected orders among the rows named ``orders`` (the order table, or a query with the
    order's columns), only those of ``ids`` when given."""
    where = sql.Sql(f"o.{sql.column(Order, 'workflow_status')} = %s", (Order.Status.REJECTED.value,))
    if ids is not None:
        listed = sql.in_list(Order, "id", ids)
        where = sql.Sql(f"{where.sql} AND o.{sql.column(Order, 'id')} IN ({listed.sql})", where.params + listed.params)
    return sql.Sql(f"FROM {orders} o WHERE {where.sql}", where.params)
