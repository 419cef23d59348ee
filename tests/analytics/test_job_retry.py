"""Ops send a failed job again from the admin: once per failed run, with its arguments, audited."""

import pytest
from celery import shared_task
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages

from analytics.models import JobRun
from sleekbatch.models import AuditEntry

pytestmark = pytest.mark.django_db

URL = "/admin/analytics/jobrun/"


@shared_task(name="tests.fails_for_order")
def fails_for_order(order_id, *, reason="bad"):
    raise ValueError(f"order {order_id}: {reason}")


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "analytics.services.current_app.send_task", lambda name, **options: calls.append((name, options))
    )
    return calls


def _retry(client, runs, **headers):
    data = {"action": "retry", ACTION_CHECKBOX_NAME: [str(run.pk) for run in runs], "index": 0}
    response = client.post(URL, data, follow=True, **headers)
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_a_failed_run_keeps_its_arguments():
    fails_for_order.apply(args=[41], kwargs={"reason": "no stock"})

    run = JobRun.objects.get(task_name="tests.fails_for_order")
    assert run.status == JobRun.Status.FAILED
    assert run.arguments == {"args": [41], "kwargs": {"reason": "no stock"}}


def test_ops_send_a_failed_job_again_and_it_is_audited(client, olivia, sent, django_capture_on_commit_callbacks):
    # given
    fails_for_order.apply(args=[41])
    run = JobRun.objects.get(task_name="tests.fails_for_order")
    client.force_login(olivia)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        messages = _retry(client, [run], HTTP_X_REQUEST_ID="req-retry")

    # then
    run.refresh_from_db()
    assert run.retried_at is not None and run.retry_task_id
    assert sent == [("tests.fails_for_order", {"args": [41], "kwargs": {}, "task_id": run.retry_task_id})]
    assert messages == [f"Sent again: tests.fails_for_order as {run.retry_task_id}."]
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_type, entry.object_id) == ("job_retry", "analytics.jobrun", str(run.pk))
    assert (entry.actor_username, entry.correlation_id) == ("olivia", "req-retry")
    assert entry.before == {"retried_at": None, "retry_task_id": ""}
    assert entry.after["retry_task_id"] == run.retry_task_id and entry.after["arguments"]["args"] == [41]


def test_a_run_is_sent_again_once_and_a_success_never(client, olivia, sent, django_capture_on_commit_callbacks):
    # given: a failure already retried, and a run that succeeded
    fails_for_order.apply(args=[41])
    failed = JobRun.objects.get(task_name="tests.fails_for_order")
    succeeded = JobRun.objects.create(task_name="sleekbatch.ping", task_id="t1", status=JobRun.Status.SUCCEEDED)
    client.force_login(olivia)
    with django_capture_on_commit_callbacks(execute=True):
        _retry(client, [failed])
    AuditEntry.objects.all().delete()
    sent.clear()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        messages = _retry(client, [failed, succeeded])

    # then
    assert sent == []
    assert not AuditEntry.objects.exists()
    assert any("was already sent again" in m for m in messages)
    assert any("did not fail (succeeded); nothing was sent." in m for m in messages)


def test_staff_without_the_ops_role_cannot_send_jobs_again(client, sent):
    # given
    from tests.factories import UserFactory

    fails_for_order.apply(args=[41])
    run = JobRun.objects.get(task_name="tests.fails_for_order")
    root_less = UserFactory(username="clerk", is_staff=True)
    client.force_login(root_less)

    # when
    response = client.post(URL, {"action": "retry", ACTION_CHECKBOX_NAME: [str(run.pk)], "index": 0})

    # then
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.retried_at is None and sent == [] and not AuditEntry.objects.exists()
