"""Pooling tasks (thin adapters) and the coalescing trigger that order intake reaches through
``orders.signals.orders_submitted``: one drain message while none is pending, however many orders
arrive. Why no order is left behind: docs/pooling.md ("The drain trigger")."""

import logging
from datetime import timedelta

from celery import shared_task

from batches.pooling.claim import pooling_drain
from orders.selectors import order_submitted_waiting
from sleekbatch.flags import SharedFlag
from sleekbatch.tasks import RETRY_POLICY

logger = logging.getLogger(__name__)

# How long a request blocks further sends. When the drain message is lost (a broker
# outage, a Redis restart) the flag alone would block every trigger until it expires,
# so it is short: the longest an order can wait on a lost message is this plus one
# watchdog period. The price is one more drain message per TTL when drains queue longer
# than that behind other work, and a second drain on a backlog is wanted anyway.
DRAIN_REQUEST_TTL_SECONDS = 5
# A drain stops claiming after this long and re-queues itself, so one huge backlog
# does not hold a worker past the task time limit (300 s) and other queued work runs
# in between; at ~5,000 orders/s that is ~100,000 orders per slice.
DRAIN_TIME_BUDGET_SECONDS = 20
DRAIN_REQUEST = SharedFlag("pooling:drain-requested", ttl_seconds=DRAIN_REQUEST_TTL_SECONDS)
# Submitted for longer than this means a lost or stranded trigger (a drain normally
# starts within a second): every worker's watchdog then asks for a drain (see
# pooling_watchdog). Long enough that a drain that is merely queued is not doubled.
STALLED_AFTER = timedelta(seconds=5)
# The beat job is a second line behind the watchdogs (a stack whose workers all run an
# old version, say); it also clears a flag the TTL has not yet expired.
RECOVER_AFTER = timedelta(seconds=60)


def request_pooling() -> None:
    """Ask for submitted orders to be pooled soon (call after the orders have committed)."""
    if not DRAIN_REQUEST.set_if_absent():
        return  # a drain is queued and has not started: it will see the new orders
    try:
        drain_submitted.delay()
    except Exception:
        DRAIN_REQUEST.clear()  # no message went out: let the next request send one
        raise


def request_pooling_on_orders_submitted(sender, **kwargs) -> None:
    """Receiver of ``orders.signals.orders_submitted`` (connected in ``BatchesConfig.ready()``)."""
    request_pooling()


def pooling_watchdog() -> bool:
    """Every worker, every few seconds (sleekbatch/watchdog.py): request a drain when an order
    has waited longer than STALLED_AFTER. Covers a trigger that failed after commit, a lost
    message and one stranded on a killed worker, with or without beat (docs/reliability.md)."""
    if not order_submitted_waiting(older_than=STALLED_AFTER):
        return False
    request_pooling()
    return True


@shared_task(name="orders.drain_submitted", **RETRY_POLICY)
def drain_submitted() -> int:
    _clear_drain_request()  # first, before any claim (see docs/pooling.md)
    # on_backlog: more than a claim's worth is waiting, so ask for a second drain; an idle
    # worker then pools the product types this one does not hold.
    result = pooling_drain(time_budget_seconds=DRAIN_TIME_BUDGET_SECONDS, on_backlog=request_pooling)
    if result.budget_spent:
        request_pooling()  # a large backlog: this slice is done, the next one is queued
    return result.orders


@shared_task(name="orders.recover_submitted", **RETRY_POLICY)
def recover_submitted() -> bool:
    """Beat, every minute: re-request pooling when orders wait too long (a lost message)."""
    if not order_submitted_waiting(older_than=RECOVER_AFTER):
        return False
    DRAIN_REQUEST.clear()  # the key of a lost message would block the request
    request_pooling()
    return True


def _clear_drain_request() -> None:
    # Pooling does not depend on the flag's Redis being up (the broker may be RabbitMQ): a
    # flag left set expires within DRAIN_REQUEST_TTL_SECONDS and the watchdog sends again.
    try:
        DRAIN_REQUEST.clear()
    except Exception:
        logger.warning("pooling.drain_request_not_cleared", exc_info=True)
