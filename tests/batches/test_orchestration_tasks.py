import pytest

from batches.models import ProductionBatch
from batches.tasks import orchestrate_batches, orchestrate_sweep
from sleekbatch.celery import app
from sleekbatch.schedules import PERIODIC_JOBS
from tests.batches.factories import batch_filled_to

pytestmark = pytest.mark.django_db


def test_the_sweep_task_decides_due_batches_and_reports_counts():
    # given
    batch_filled_to(80)
    batch_filled_to(20, window_closed=True)

    # when
    counts = orchestrate_sweep(chunk_size=1)

    # then
    assert counts == {"confirmed": 1, "sent_to_review": 0, "cancelled": 1, "nearing_target": 0, "decided": 2}


def test_the_hand_over_task_takes_string_ids_and_confirms_at_the_threshold():
    # given
    batch = batch_filled_to(75)
    below = batch_filled_to(40)

    # when
    counts = orchestrate_batches([str(batch.id), str(below.id)])

    # then
    assert counts == {"confirmed": 1, "sent_to_review": 0, "cancelled": 0, "nearing_target": 0, "decided": 1}
    batch.refresh_from_db()
    assert batch.batch_status == ProductionBatch.Status.CONFIRMED


def test_beat_runs_the_sweep_every_minute_on_the_orchestration_queue():
    # given
    job = next(job for job in PERIODIC_JOBS if job.task == orchestrate_sweep.name)

    # when
    routes = {
        name: app.amqp.router.route({}, name)["queue"].name
        for name in (orchestrate_sweep.name, orchestrate_batches.name)
    }

    # then
    assert (job.every_seconds, job.queue) == (60, "orchestration")
    assert routes == {"batches.orchestrate_sweep": "orchestration", "batches.orchestrate_batches": "orchestration"}
