"""What ``GET /metrics`` exposes: a prometheus-client collector over Redis, the broker and the database.

Every value is read at scrape time from a store all processes share (task counters in Redis,
queue depths from the broker, platform gauges from the database), so any number of gunicorn
workers on any number of hosts answer alike. Every metric is listed in docs/metrics.md.
"""

import logging
import time

from django.conf import settings
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from analytics import task_metrics
from analytics.selectors import platform_gauges
from sleekbatch.celery import app as celery_app

logger = logging.getLogger(__name__)

TASK_LABELS = ["name", "hostname", "queue_name"]
# celery-exporter's counters: Redis family → (help, extra labels).
TASK_COUNTERS = {
    "celery_task_sent_total": ("Tasks published (on the producer's host).", []),
    "celery_task_received_total": ("Tasks a worker received.", []),
    "celery_task_started_total": ("Tasks a worker started.", []),
    "celery_task_succeeded_total": ("Tasks that succeeded.", []),
    "celery_task_failed_total": ("Tasks that failed for good, by exception class.", ["exception"]),
    "celery_task_retried_total": ("Task attempts that ended in a retry.", []),
}


class SleekbatchCollector:
    def collect(self):
        yield from _task_families()
        yield _queue_lengths()
        yield _workers_up()
        yield from _platform_families()


def _task_families():
    for family, (documentation, extra_labels) in TASK_COUNTERS.items():
        metric = CounterMetricFamily(family.removesuffix("_total"), documentation, labels=TASK_LABELS + extra_labels)
        for labels, value in sorted(task_metrics.read_counter(family).items()):
            metric.add_metric(list(labels), value)
        yield metric
    for family, documentation, labels, buckets in (
        ("celery_task_runtime", "Task run time in seconds.", TASK_LABELS, task_metrics.RUNTIME_BUCKETS),
        (
            "celery_task_queue_wait_time",
            "Seconds from publish (or a delayed message's ETA) to the start of the task.",
            ["name", "queue_name"],
            task_metrics.QUEUE_WAIT_BUCKETS,
        ),
    ):
        metric = HistogramMetricFamily(family, documentation, labels=labels)
        for histogram in sorted(task_metrics.read_histogram(family, buckets), key=lambda h: h.labels):
            metric.add_metric(list(histogram.labels), histogram.buckets, histogram.sum)
        yield metric
    decisions = CounterMetricFamily(
        "sleekbatch_sweep_decisions", "Batches the orchestration sweep decided, by outcome.", labels=["outcome"]
    )
    counted = task_metrics.read_counter("sleekbatch_sweep_decisions_total")
    for outcome in ("confirmed", "sent_to_review", "cancelled", "nearing_target"):
        decisions.add_metric([outcome], counted.get((outcome,), 0))
    yield decisions


def broker_queue_lengths() -> dict[str, int]:
    """Messages waiting in each task queue, every priority level counted.

    kombu's passive queue_declare answers with the queue's size: on Redis that is the sum of
    the LLEN of every priority list (``orders``, ``orders\\x06\\x163``, …), where
    celery-exporter reads only the first. A queue that does not exist yet holds nothing.
    """
    lengths = {}
    with celery_app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=1)
        for queue in settings.TASK_QUEUES:
            channel = connection.channel()
            try:
                lengths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
            except connection.channel_errors:
                lengths[queue] = 0
            finally:
                try:
                    channel.close()
                except Exception:  # an AMQP channel closed by the failed declare
                    pass
    return lengths


def _queue_lengths():
    metric = GaugeMetricFamily("celery_queue_length", "Messages waiting in a task queue.", labels=["queue_name"])
    try:
        lengths = broker_queue_lengths()
    except Exception:
        logger.warning("metrics.broker_unreachable", exc_info=True)
        return metric
    for queue, length in sorted(lengths.items()):
        metric.add_metric([queue], length)
    return metric


def _workers_up():
    metric = GaugeMetricFamily(
        "celery_worker_up", "1 while a worker sends heartbeats, 0 once it stopped.", labels=["hostname"]
    )
    now = time.time()
    for hostname, seen_at in sorted(task_metrics.read_workers().items()):
        metric.add_metric([hostname], 1 if now - seen_at < settings.METRICS_WORKER_UP_SECONDS else 0)
    return metric


def _platform_families():
    gauges = platform_gauges()
    now = time.time()
    orders = GaugeMetricFamily("sleekbatch_orders", "Orders by workflow status.", labels=["workflow_status"])
    for status, count in gauges.orders_by_status.items():
        orders.add_metric([status], count)
    yield orders
    batches = GaugeMetricFamily("sleekbatch_batches", "Production batches by status.", labels=["batch_status"])
    for status, count in gauges.batches_by_status.items():
        batches.add_metric([status], count)
    yield batches
    yield GaugeMetricFamily(
        "sleekbatch_oldest_submitted_order_age_seconds",
        "Age of the oldest order still waiting to be pooled (0 when none waits).",
        value=_age(now, gauges.oldest_submitted_at),
    )
    yield GaugeMetricFamily(
        "sleekbatch_review_queue_length", "Batches waiting for an ops decision.", value=gauges.review_queue_length
    )
    yield GaugeMetricFamily(
        "sleekbatch_review_queue_oldest_age_seconds",
        "How long the oldest batch in review has waited (0 when none waits).",
        value=_age(now, gauges.oldest_review_started_at),
    )
    if gauges.last_sweep_at is not None:
        yield GaugeMetricFamily(
            "sleekbatch_sweep_last_success_timestamp_seconds",
            "When the last orchestration sweep succeeded (Unix time).",
            value=gauges.last_sweep_at,
        )
        yield GaugeMetricFamily(
            "sleekbatch_sweep_seconds_since_last_success",
            "Seconds since the last orchestration sweep succeeded.",
            value=_age(now, gauges.last_sweep_at),
        )
        yield GaugeMetricFamily(
            "sleekbatch_sweep_last_duration_seconds",
            "How long the last successful sweep ran.",
            value=gauges.last_sweep_seconds or 0,
        )


def _age(now: float, then: float | None) -> float:
    return max(now - then, 0.0) if then is not None else 0.0


def metrics_text() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SleekbatchCollector())
    return generate_latest(registry)
