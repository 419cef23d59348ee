"""A little of everything the ops dashboard shows."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from analytics.models import DailyStats, JobRun
from batches.models import ProductionBatch
from sleekbatch.models import BusinessEvent
from tests.factories import ProductionBatchFactory


def dashboard_data() -> None:
    now = timezone.now()
    for current in (5, 35, 65, 100):  # open batches at 5 %, 35 %, 65 %, 100 % of 100
        ProductionBatchFactory(current_quantity=current)
    ProductionBatchFactory(batch_status=ProductionBatch.Status.CONFIRMED, current_quantity=80)
    ProductionBatchFactory(
        batch_status=ProductionBatch.Status.ADMIN_REVIEW,
        current_quantity=60,
        review_started_at=now - timedelta(hours=5),
    )
    for hours_ago, quantity in ((0, 12), (3, 30), (3, 8), (47, 5), (60, 99)):
        BusinessEvent.objects.create(
            kind=BusinessEvent.Kind.ORDER_SUBMITTED,
            occurred_at=now - timedelta(hours=hours_ago),
            product_type="hoodie",
            quantity=quantity,
        )
    for minutes_ago, status in ((5, "succeeded"), (6, "succeeded"), (70, "failed"), (800, "failed")):
        JobRun.objects.create(
            task_name="orders.drain_submitted",
            task_id=f"job-{minutes_ago}",
            status=status,
            duration_ms=20,
            error="OperationalError: server closed the connection" if status == "failed" else "",
            finished_at=now - timedelta(minutes=minutes_ago),
        )
    today = now.date()
    for days_ago, orders, revenue in ((0, 40, "1200.00"), (2, 10, "0"), (2, 5, "50.50")):
        DailyStats.objects.update_or_create(
            day=today - timedelta(days=days_ago),
            product_type="tee" if revenue == "50.50" else "hoodie",
            defaults={"orders_submitted": orders, "revenue": Decimal(revenue)},
        )
