import pytest
from celery import shared_task
from django.core import mail
from django.core.cache import cache

from analytics.models import JobRun
from sleekbatch.job_failures import KEY_PREFIX
from sleekbatch.tasks import ping


@shared_task(name="tests.always_fails")
def always_fails():
    raise ValueError("bad input, not worth a retry")


@pytest.mark.django_db
def test_it_records_a_succeeded_job_run():
    ping.apply(args=["t"])
    run = JobRun.objects.get(task_name="sleekbatch.ping")
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.duration_ms is not None


@pytest.mark.django_db
def test_it_records_a_failed_job_and_notifies_staff(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.delete(f"{KEY_PREFIX}tests.always_fails:window")  # the shared cache outlives a test run
    always_fails.apply()
    run = JobRun.objects.get(task_name="tests.always_fails")
    assert run.status == JobRun.Status.FAILED
    assert run.error == "ValueError: bad input, not worth a retry"
    assert [m.subject for m in mail.outbox] == ["[Django] job failed: tests.always_fails"]
