"""Orchestration tasks (thin adapters). OWNED BY THE ORCHESTRATION WORK: skeleton to be replaced."""

from celery import shared_task

from sleekbatch.tasks import RETRY_POLICY


@shared_task(name="batches.orchestrate_sweep", **RETRY_POLICY)
def orchestrate_sweep() -> None:
    raise NotImplementedError("orchestration not built yet")


@shared_task(name="batches.orchestrate_batch", **RETRY_POLICY)
def orchestrate_batch(batch_id: str) -> None:
    raise NotImplementedError("orchestration not built yet")
