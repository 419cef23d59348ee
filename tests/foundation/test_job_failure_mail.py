"""Failed-job mails: one per failing task name per interval, with the count held back."""

import uuid

import pytest
from django.core import mail
from django.core.cache import cache

from sleekbatch import job_failures
from sleekbatch.job_failures import job_failure_notify


@pytest.fixture
def mailbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.JOB_FAILURE_MAIL_INTERVAL_SECONDS = 600
    # The embedded profile's file cache culls a third of its entries at random once it holds 300
    # (throttle counters of earlier tests fill it): start empty so no window key is culled mid-test.
    cache.clear()
    mail.outbox.clear()
    return mail.outbox


def _task_name():
    return f"tests.failing_{uuid.uuid4().hex[:8]}"  # the shared cache outlives a test


def _fail(task_name, times=1):
    return [
        job_failure_notify(task_name=task_name, task_id=f"t{i}", error="OperationalError: down") for i in range(times)
    ]


def test_a_flood_of_failures_sends_one_mail_per_task_name(mailbox):
    # given
    drain, sweep = _task_name(), _task_name()

    # when: an outage fails 300 tries of one task and 20 of another
    sent = _fail(drain, 300) + _fail(sweep, 20)

    # then
    assert sent.count(True) == 2
    assert sorted(m.subject for m in mailbox) == sorted(f"[Django] job failed: {name}" for name in (drain, sweep))


def test_the_next_mail_after_the_interval_carries_the_count_held_back(mailbox):
    # given: a window with 1 mail and 41 failures held back
    drain = _task_name()
    _fail(drain, 42)

    # when: the interval is over and the job fails again
    cache.delete(f"{job_failures.KEY_PREFIX}{drain}:window")
    _fail(drain)

    # then
    assert [m.subject for m in mailbox] == [
        f"[Django] job failed: {drain}",
        f"[Django] job failed: {drain} (and 41 more since the last notice)",
    ]
    assert "41 more failures" in mailbox[1].body

    # and: the count starts again from zero
    cache.delete(f"{job_failures.KEY_PREFIX}{drain}:window")
    _fail(drain)
    assert mailbox[2].subject == f"[Django] job failed: {drain}"


def test_without_the_cache_each_process_still_sends_one_mail_per_interval(mailbox, monkeypatch):
    # given: the cache (Redis) is down
    def cache_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(job_failures.cache, "add", cache_down)
    drain = _task_name()

    # when
    sent = _fail(drain, 100)

    # then
    assert sent.count(True) == 1
    assert len(mailbox) == 1

    # when: this process's interval is over
    job_failures._local_windows[drain].opened_at -= 601
    _fail(drain)

    # then
    assert mailbox[1].subject == f"[Django] job failed: {drain} (and 99 more since the last notice)"
