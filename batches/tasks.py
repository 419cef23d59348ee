"""Orchestration tasks: thin adapters over batches.orchestration (queue ``orchestration``).
The pooling tasks are in batches/pooling/tasks.py."""

from celery import shared_task

from batches.orchestration import SWEEP_CHUNK_SIZE, orchestration_decide, orchestration_sweep
from sleekbatch.tasks import RETRY_POLICY


@shared_task(name="batches.orchestrate_sweep", **RETRY_POLICY)
def orchestrate_sweep(chunk_size: int = SWEEP_CHUNK_SIZE) -> dict:
    """Run by beat every minute: decide every batch that needs attention."""
    return orchestration_sweep(chunk_size=chunk_size).counts()


@shared_task(name="batches.orchestrate_batches", **RETRY_POLICY)
def orchestrate_batches(batch_ids: list[str]) -> dict:
    """Enqueued right after a pooling claim commits, with the batches it brought to the
    confirm threshold: one message per claim, not one per batch."""
    return orchestration_decide(batch_ids=batch_ids).counts()
