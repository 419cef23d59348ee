"""Pooling tasks (thin adapters). OWNED BY THE POOLING WORK: skeleton to be replaced.

``request_pooling()`` is the one entry point the intake calls after commit.
"""

from celery import shared_task

from sleekbatch.tasks import RETRY_POLICY


def request_pooling() -> None:
    """Ask for submitted orders to be pooled soon (called via transaction.on_commit)."""
    drain_submitted.delay()


@shared_task(name="orders.drain_submitted", **RETRY_POLICY)
def drain_submitted() -> None:
    raise NotImplementedError("pooling engine not built yet")


@shared_task(name="orders.recover_submitted", **RETRY_POLICY)
def recover_submitted() -> None:
    raise NotImplementedError("pooling engine not built yet")
