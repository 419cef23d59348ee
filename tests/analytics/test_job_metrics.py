from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import JobRun
from analytics.services import job_runs_prune
from analytics.tasks import prune_job_runs
from sleekbatch.tasks import ping

URL = "/api/metrics/jobs/"


def _run(task_name, status=JobRun.Status.SUCCEEDED, *, duration_ms=10, minutes_ago=1, error="", rss_kib=None):
    return JobRun.objects.create(
        task_name=task_name,
        task_id="t",
        status=status,
        duration_ms=duration_ms,
        error=error,
        peak_rss_kib=rss_kib,
        finished_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


@pytest.mark.django_db
def test_it_gives_ops_the_figures_of_each_task_over_the_last_hour(olivia, api_client_for):
    # given: ten sweep runs of 10..100 ms, one of them failed, one retried; and one run two hours ago
    for i in range(1, 11):
        status = JobRun.Status.SUCCEEDED
        if i == 3:
            status = JobRun.Status.RETRYING
        if i == 7:
            status = JobRun.Status.FAILED
        error = {3: "OperationalError: lock timeout", 7: "ValueError: bad row"}.get(i, "")
        _run("batches.orchestrate_sweep", status, duration_ms=i * 10, minutes_ago=60 - i, error=error, rss_kib=2048 * i)
    _run("batches.orchestrate_sweep", JobRun.Status.FAILED, duration_ms=5000, minutes_ago=120, error="old")
    _run("orders.drain_submitted", duration_ms=40)

    # when
    response = api_client_for(olivia).get(URL)

    # then
    assert response.status_code == 200
    tasks = {task["task_name"]: task for task in response.json()["tasks"]}
    sweep = tasks["batches.orchestrate_sweep"]
    assert sweep["runs"] == 10
    assert (sweep["succeeded"], sweep["failed"], sweep["retries"]) == (8, 1, 1)
    assert sweep["success_rate"] == pytest.approx(8 / 9, abs=1e-4)
    assert sweep["p50_ms"] == 55.0  # percentile_cont over 10, 20, …, 100
    assert sweep["p95_ms"] == 95.5
    assert sweep["max_ms"] == 100
    assert sweep["runs_per_minute"] == pytest.approx(10 / 60, abs=1e-3)
    assert sweep["peak_rss_mib"] == 20.0
    assert sweep["last_error"] == "ValueError: bad row"  # the newest error, not the older retry's
    assert tasks["orders.drain_submitted"]["runs"] == 1
    assert tasks["orders.drain_submitted"]["last_error"] == ""
    assert tasks["orders.drain_submitted"]["last_error_at"] is None


@pytest.mark.django_db
def test_it_answers_for_the_window_asked(olivia, api_client_for):
    _run("batches.orchestrate_sweep", minutes_ago=120)
    _run("batches.orchestrate_sweep", minutes_ago=30)
    since = (timezone.now() - timedelta(hours=3)).isoformat()
    until = (timezone.now() - timedelta(hours=1)).isoformat()

    response = api_client_for(olivia).get(URL, {"since": since, "until": until})

    assert response.status_code == 200
    assert [(t["task_name"], t["runs"]) for t in response.json()["tasks"]] == [("batches.orchestrate_sweep", 1)]
    assert response.json()["tasks"][0]["runs_per_minute"] == pytest.approx(1 / 120, abs=1e-3)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, field",
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01T00:00:00Z"}, "until"),
        ({"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, "since"),
        ({"since": "2026-01-01T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, "since"),
    ],
)
def test_it_refuses_a_bad_window_with_field_errors(olivia, api_client_for, params, field):
    response = api_client_for(olivia).get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.django_db
def test_only_operations_staff_see_job_metrics(alice, sam, api_client_for, anon_client):
    assert api_client_for(alice).get(URL).status_code == 403
    assert api_client_for(sam).get(URL).status_code == 403
    assert anon_client.get(URL).status_code == 401


@pytest.mark.django_db
def test_a_run_records_when_it_started_and_the_workers_peak_memory():
    ping.apply(args=["t"])
    run = JobRun.objects.get(task_name="sleekbatch.ping")
    assert run.peak_rss_kib > 10 * 1024  # a Python process with Django loaded
    assert run.started_at <= run.finished_at


@pytest.mark.django_db
def test_retention_deletes_older_runs_in_chunks_and_keeps_the_rest():
    # given: five runs 40 days old, two from today
    for _ in range(5):
        _run("sleekbatch.ping", minutes_ago=40 * 24 * 60)
    kept = [_run("sleekbatch.ping", minutes_ago=5), _run("sleekbatch.ping", minutes_ago=29 * 24 * 60)]

    # when: chunks of two
    deleted = job_runs_prune(older_than=timezone.now() - timedelta(days=30), chunk_size=2)

    # then
    assert deleted == 5
    assert sorted(JobRun.objects.values_list("id", flat=True)) == sorted(run.id for run in kept)


@pytest.mark.django_db
def test_the_daily_retention_job_uses_the_retention_setting(settings):
    settings.JOB_RUN_RETENTION = timedelta(days=2)
    _run("sleekbatch.ping", minutes_ago=3 * 24 * 60)
    _run("sleekbatch.ping", minutes_ago=24 * 60)

    assert prune_job_runs.apply().get() == 1
    assert JobRun.objects.filter(task_name="sleekbatch.ping").count() == 1
