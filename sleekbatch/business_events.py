"""Business events, written set-based beside the change they record (docs/analytics.md).

Writers build their events with ``business_events_insert`` as an ``INSERT … SELECT`` over the
rows their own statement just moved, and run it in the same transaction, or as a CTE of the
same statement; never one row per Python call.
"""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils import timezone

from sleekbatch import sql
from sleekbatch.correlation import get_correlation_id
from sleekbatch.models import BusinessEvent

BusinessKind = Kind = BusinessEvent.Kind


def business_events_enabled() -> bool:
    return settings.BUSINESS_EVENTS


def business_events_insert(values: Mapping[str, Any], source: sql.Sql) -> sql.Sql | None:
    """``INSERT INTO <events> … SELECT … <source>`` (``sql.insert_select``), or None when events are off.

    ``recorded_at`` is now and ``correlation_id`` the current one unless ``values`` name them.
    """
    if not business_events_enabled():
        return None
    return sql.insert_select(
        BusinessEvent, {"recorded_at": timezone.now(), "correlation_id": get_correlation_id(), **values}, source
    )


def business_events_write(values: Mapping[str, Any], source: sql.Sql) -> int:
    """Run ``business_events_insert``; the number of events written (0 when events are off)."""
    statement = business_events_insert(values, source)
    return sql.execute(statement) if statement is not None else 0


def outcome_kind_sql(status_column: str, is_batch_order_column: str, *, rejected_status: str) -> sql.Sql:
    """The event kind of a pooling decision, from the order's new status and is_batch_order."""
    return sql.Sql(
        f"CASE WHEN {status_column} = %s THEN %s WHEN {is_batch_order_column} = %s THEN %s ELSE %s END",
        (rejected_status, Kind.ORDER_REJECTED.value, False, Kind.ORDER_DIRECT.value, Kind.ORDER_POOLED.value),
    )
