"""Transient errors retry on a time budget with exponential backoff, a floor and full jitter."""

import time
from unittest import mock

import pytest
from celery import shared_task
from celery.exceptions import Retry
from django.db import OperationalError

from sleekbatch.tasks import FIRST_TRY_HEADER, RETRY_POLICY, retry_countdown


@shared_task(name="tests.database_hiccup", **RETRY_POLICY)
def database_hiccup():
    raise OperationalError("server closed the connection unexpectedly")


@shared_task(name="tests.bad_input", **RETRY_POLICY)
def bad_input():
    raise ValueError("not worth a retry")


@pytest.fixture
def retry_settings(settings):
    settings.TASK_RETRY_BUDGET_SECONDS = 180
    settings.TASK_RETRY_BASE_SECONDS = 1.0
    settings.TASK_RETRY_FLOOR_SECONDS = 0.5
    settings.TASK_RETRY_MAX_SECONDS = 30.0
    return settings


@pytest.mark.parametrize("retries", range(12))
def test_a_countdown_lies_between_the_floor_and_the_exponential_ceiling(retry_settings, retries):
    # when
    countdowns = [retry_countdown(retries) for _ in range(400)]

    # then
    ceiling = min(30.0, 2**retries)
    assert min(countdowns) >= 0.5
    assert max(countdowns) <= max(ceiling, 0.5)
    if ceiling >= 8:  # full jitter: spread over the whole range, not bunched near the ceiling
        assert min(countdowns) < ceiling * 0.25 and max(countdowns) > ceiling * 0.75


def _run_as_worker(task, *, retries: int, first_try_at: float | None):
    headers = {FIRST_TRY_HEADER: first_try_at} if first_try_at is not None else {}
    task.push_request(id="t-1", retries=retries, called_directly=False, is_eager=False, headers=headers, **headers)
    try:
        with mock.patch.object(task, "retry", return_value=Retry("again")) as retry:
            with pytest.raises(Exception) as raised:
                task()
        return retry, raised.value
    finally:
        task.pop_request()


def test_a_transient_error_is_retried_with_the_first_try_time_carried_along(retry_settings):
    # when: the first try fails
    before = time.time()
    retry, raised = _run_as_worker(database_hiccup, retries=0, first_try_at=None)

    # then
    assert isinstance(raised, Retry)
    (call,) = retry.call_args_list
    assert 0.5 <= call.kwargs["countdown"] <= 1.0
    assert before <= call.kwargs["headers"][FIRST_TRY_HEADER] <= time.time()


def test_a_transient_error_keeps_retrying_inside_the_budget_whatever_the_count(retry_settings):
    # when: the 40th try fails two minutes after the first
    retry, raised = _run_as_worker(database_hiccup, retries=40, first_try_at=time.time() - 120)

    # then
    assert isinstance(raised, Retry)
    assert retry.call_args.kwargs["countdown"] <= 30


def test_a_transient_error_fails_once_the_next_wait_would_pass_the_budget(retry_settings):
    # when: the next wait (at least the floor) would end past 180 s
    retry, raised = _run_as_worker(database_hiccup, retries=9, first_try_at=time.time() - 179.8)

    # then
    assert isinstance(raised, OperationalError)
    assert not retry.called


def test_a_permanent_error_fails_at_once(retry_settings):
    # when
    retry, raised = _run_as_worker(bad_input, retries=0, first_try_at=None)

    # then
    assert isinstance(raised, ValueError)
    assert not retry.called


def test_even_unlucky_draws_spread_the_tries_over_the_whole_budget(retry_settings):
    # given: every jittered draw is 0 s (five such tries once fitted in 7 s of a 12 s outage)
    with mock.patch("sleekbatch.tasks.random.uniform", return_value=0.0):
        waits = []
        elapsed = 0.0
        while elapsed + retry_countdown(len(waits)) <= 180:
            waits.append(retry_countdown(len(waits)))
            elapsed += waits[-1]

    # then: the floor keeps them apart, and they cover the budget, not seven seconds of it
    assert all(wait == 0.5 for wait in waits)
    assert elapsed >= 179.5
