import json
import logging

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django_celery_beat.models import PeriodicTask

from sleekbatch.correlation import HEADER
from sleekbatch.logging import CorrelationIdFilter, JsonFormatter
from sleekbatch.schedules import PERIODIC_JOBS
from tests.factories import BatchContributionFactory, OrderFactory, ProductionBatchFactory


@pytest.mark.django_db
def test_health_reports_database_broker_and_cache(anon_client):
    response = anon_client.get("/api/health/")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": {"ok": True}, "broker": {"ok": True}, "cache": {"ok": True}}


def _take_down(monkeypatch, name: str, reason: str):
    from sleekbatch import services_check

    def down(*args, **kwargs):
        raise services_check.ServiceUnavailable(reason)

    monkeypatch.setitem(services_check.SERVICE_CHECKS, name, down)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["database", "broker", "cache"])
def test_health_is_503_without_naming_hosts_to_anonymous_callers(anon_client, monkeypatch, name):
    # given
    _take_down(monkeypatch, name, f"{name} unreachable (redis://secret-host:6379/0): refused")

    # when
    response = anon_client.get("/api/health/")

    # then
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"][name] == {"ok": False}
    assert "secret-host" not in response.content.decode()


@pytest.mark.django_db
def test_health_tells_ops_why_a_service_is_down(api_client_for, olivia, alice, monkeypatch):
    # given
    _take_down(monkeypatch, "broker", "broker unreachable (redis://x): refused")

    # when
    as_ops = api_client_for(olivia).get("/api/health/")
    as_buyer = api_client_for(alice).get("/api/health/")

    # then
    assert as_ops.status_code == as_buyer.status_code == 503
    assert as_ops.json()["checks"]["broker"] == {"ok": False, "error": "broker unreachable (redis://x): refused"}
    assert as_buyer.json()["checks"]["broker"] == {"ok": False}


@pytest.mark.django_db
def test_health_checks_the_cache_by_writing_and_reading(anon_client, monkeypatch):
    # given: a cache that accepts writes and loses them
    from django.core.cache import cache

    monkeypatch.setattr(cache, "get", lambda *args, **kwargs: None)

    # when
    response = anon_client.get("/api/health/")

    # then
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == {"ok": False}


@pytest.mark.django_db
def test_a_request_id_is_echoed_or_generated(anon_client):
    given = anon_client.get("/api/health/", HTTP_X_REQUEST_ID="req-123")
    generated = anon_client.get("/api/health/")
    assert given[HEADER] == "req-123"
    assert len(generated[HEADER]) == 32


@pytest.mark.django_db
def test_setup_periodic_tasks_is_idempotent_and_updates_by_name():
    call_command("setup_periodic_tasks")
    PeriodicTask.objects.filter(name=PERIODIC_JOBS[0].name).update(task="renamed.elsewhere", enabled=False)
    call_command("setup_periodic_tasks")
    tasks = {t.name: t for t in PeriodicTask.objects.exclude(name="celery.backend_cleanup")}
    assert set(tasks) == {job.name for job in PERIODIC_JOBS}
    for job in PERIODIC_JOBS:
        assert tasks[job.name].task == job.task
        assert tasks[job.name].enabled
        assert tasks[job.name].queue == job.queue
        if job.crontab:
            schedule = tasks[job.name].crontab
            assert f"{schedule.minute} {schedule.hour} {schedule.day_of_week}" == job.crontab
        else:
            assert tasks[job.name].interval.every == job.every_seconds


def test_periodic_tasks_name_registered_tasks():
    from sleekbatch.celery import app

    app.loader.import_default_modules()
    for job in PERIODIC_JOBS:
        assert job.task in app.tasks, job.task


def test_log_lines_are_json_with_the_correlation_id():
    from sleekbatch.correlation import reset_correlation_id, set_correlation_id

    record = logging.makeLogRecord({"msg": "order.pooled", "levelname": "INFO", "name": "orders", "order_id": 7})
    token = set_correlation_id("abc")
    try:
        CorrelationIdFilter().filter(record)
    finally:
        reset_correlation_id(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "order.pooled"
    assert line["correlation_id"] == "abc"
    assert line["order_id"] == 7


@pytest.mark.django_db
def test_the_database_refuses_a_batch_filled_past_its_target():
    batch = ProductionBatchFactory(target_quantity=100)
    batch.current_quantity = 101
    with pytest.raises(IntegrityError):
        batch.save()


@pytest.mark.django_db
def test_the_database_refuses_a_second_contribution_for_one_order():
    contribution = BatchContributionFactory()
    with pytest.raises(IntegrityError):
        BatchContributionFactory(order=contribution.order, batch=contribution.batch)


@pytest.mark.django_db
def test_the_database_refuses_a_reused_idempotency_key_for_one_buyer(alice, bob):
    OrderFactory(buyer=alice, idempotency_key="k1")
    OrderFactory(buyer=bob, idempotency_key="k1")  # another buyer may use the same key
    with pytest.raises(IntegrityError):
        OrderFactory(buyer=alice, idempotency_key="k1")


@pytest.mark.django_db
def test_the_fill_is_computed_by_the_database():
    batch = ProductionBatchFactory(target_quantity=400, current_quantity=300)
    batch.refresh_from_db()
    assert batch.fill_basis_points == 7500
    assert str(batch.fill_percent) == "75.00"
