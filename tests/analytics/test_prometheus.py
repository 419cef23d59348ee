from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from analytics import task_metrics
from analytics.models import JobRun
from analytics.selectors import PLATFORM_GAUGES_CACHE_KEY
from batches.models import ProductionBatch
from orders.models import Order
from sleekbatch.celery import app as celery_app
from sleekbatch.processes import purge_task_queues
from tests.factories import OrderFactory, ProductionBatchFactory

URL = "/metrics"
TOKEN = "scraper-secret-123"
requires_redis = pytest.mark.skipif(
    not (settings.REDIS_URL and settings.CELERY_BROKER_URL.startswith("redis")),
    reason="needs Redis as cache and broker (`make test` runs it)",
)


@pytest.fixture(autouse=True)
def fresh_metrics(settings):
    settings.METRICS_SCRAPE_TOKEN = TOKEN
    cache.delete(PLATFORM_GAUGES_CACHE_KEY)
    client = task_metrics.metrics_client()
    if client is not None:
        client.delete(*(client.keys(task_metrics.PREFIX + "*") or [task_metrics.PREFIX]))
    yield
    cache.delete(PLATFORM_GAUGES_CACHE_KEY)


def scrape(client) -> dict:
    """{(metric sample name, frozenset of labels): value} of one /metrics answer."""
    response = client.get(URL)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, metric, **labels):
    return samples.get((metric, frozenset(labels.items())))


@pytest.mark.django_db
def test_the_scraper_reads_metrics_with_its_bearer_token(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    samples = scrape(anon_client)
    assert value(samples, "sleekbatch_review_queue_length") == 0


@pytest.mark.django_db
def test_operations_staff_read_metrics_with_their_token(olivia, api_client_for):
    assert value(scrape(api_client_for(olivia)), "sleekbatch_orders", workflow_status="submitted") == 0


@pytest.mark.django_db
def test_anyone_else_is_refused(anon_client, alice, sam, api_client_for, settings):
    # no credentials: 401, and the challenge names the scheme the scraper uses
    response = anon_client.get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    # a wrong bearer token
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer guessed")
    assert anon_client.get(URL).status_code == 401
    # buyers and suppliers
    assert api_client_for(alice).get(URL).status_code == 403
    assert api_client_for(sam).get(URL).status_code == 403
    # with no scraper token configured, no bearer token opens it
    settings.METRICS_SCRAPE_TOKEN = ""
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer ")
    assert anon_client.get(URL).status_code == 401


@pytest.mark.django_db
def test_it_reports_orders_batches_the_oldest_waiting_order_and_the_review_queue(olivia, api_client_for):
    # given: three submitted orders, the oldest 10 minutes old; one rejected; two batches, one in review for an hour
    now = timezone.now()
    for minutes in (10, 2, 1):
        order = OrderFactory()
        Order.objects.filter(id=order.id).update(created_at=now - timedelta(minutes=minutes))
    OrderFactory(workflow_status=Order.Status.REJECTED)
    ProductionBatchFactory()
    ProductionBatchFactory(batch_status=ProductionBatch.Status.ADMIN_REVIEW, review_started_at=now - timedelta(hours=1))
    JobRun.objects.create(
        task_name="batches.orchestrate_sweep",
        task_id="s",
        status=JobRun.Status.SUCCEEDED,
        duration_ms=2500,
        finished_at=now - timedelta(minutes=3),
    )

    # when
    samples = scrape(api_client_for(olivia))

    # then
    assert value(samples, "sleekbatch_orders", workflow_status="submitted") == 3
    assert value(samples, "sleekbatch_orders", workflow_status="rejected") == 1
    assert value(samples, "sleekbatch_orders", workflow_status="confirmed") == 0
    assert value(samples, "sleekbatch_batches", batch_status="open") == 1
    assert value(samples, "sleekbatch_batches", batch_status="admin_review") == 1
    assert value(samples, "sleekbatch_review_queue_length") == 1
    assert 3590 < value(samples, "sleekbatch_review_queue_oldest_age_seconds") < 3700
    assert 590 < value(samples, "sleekbatch_oldest_submitted_order_age_seconds") < 700
    assert 170 < value(samples, "sleekbatch_sweep_seconds_since_last_success") < 280
    assert value(samples, "sleekbatch_sweep_last_duration_seconds") == 2.5


@pytest.mark.django_db
def test_platform_gauges_are_shared_through_the_cache_for_a_few_seconds(olivia, api_client_for):
    client = api_client_for(olivia)
    assert value(scrape(client), "sleekbatch_orders", workflow_status="submitted") == 0
    OrderFactory()
    assert value(scrape(client), "sleekbatch_orders", workflow_status="submitted") == 0  # cached
    cache.delete(PLATFORM_GAUGES_CACHE_KEY)
    assert value(scrape(client), "sleekbatch_orders", workflow_status="submitted") == 1


@requires_redis
@pytest.mark.django_db
def test_queue_length_counts_every_priority_level(olivia, api_client_for):
    # given: three messages in the reports queue at three priorities (no worker consumes them here)
    purge_task_queues()
    try:
        for priority in (0, 5, 9):
            celery_app.send_task("reports.nothing", queue="reports", priority=priority)

        # when
        samples = scrape(api_client_for(olivia))
    finally:
        purge_task_queues()

    # then: kombu keeps them in three Redis lists; all are counted
    assert value(samples, "celery_queue_length", queue_name="reports") == 3
    assert value(samples, "celery_queue_length", queue_name="orders") == 0


@requires_redis
@pytest.mark.django_db
def test_a_publish_is_counted_under_the_producers_host(olivia, api_client_for):
    purge_task_queues()
    try:
        message = celery_app.send_task("reports.nothing", queue="reports")
        samples = scrape(api_client_for(olivia))
    finally:
        purge_task_queues()
    hosts = {
        dict(labels)["hostname"]
        for (name, labels) in samples
        if name == "celery_task_sent_total" and dict(labels).get("name") == "reports.nothing"
    }
    assert len(hosts) == 1
    assert (
        value(samples, "celery_task_sent_total", name="reports.nothing", hostname=hosts.pop(), queue_name="reports")
        == 1
    )
    assert message.id


@requires_redis
def test_histograms_read_back_cumulative_buckets():
    with task_metrics.recording() as metrics:
        for seconds in (0.003, 0.2, 0.2, 400.0):
            metrics.observe("celery_task_runtime", ("t", "h", "q"), seconds, task_metrics.RUNTIME_BUCKETS)

    (histogram,) = task_metrics.read_histogram("celery_task_runtime", task_metrics.RUNTIME_BUCKETS)

    buckets = dict(histogram.buckets)
    assert (buckets["0.005"], buckets["0.1"], buckets["0.25"], buckets["300.0"], buckets["+Inf"]) == (1, 1, 3, 3, 4)
    assert histogram.count == 4
    assert histogram.sum == pytest.approx(400.403)
