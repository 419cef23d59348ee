"""A small, awkward data set for reports: non-ASCII names, formula-looking text, a direct order,
decided and open batches, and rows just outside the reported week."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from batches.models import ProductionBatch
from orders.models import Order
from sleekbatch.roles import BUYER, assign_role
from suppliers.models import Supplier, SupplierOrder
from tests.factories import (
    BatchContributionFactory,
    OrderFactory,
    ProductionBatchFactory,
    SupplierOfferFactory,
    UserFactory,
)

WEEK_START = date(2026, 11, 2)
WEEK_END = date(2026, 11, 8)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def queued(monkeypatch):
    """The generation tasks the API asked for (instead of sending them to the broker)."""
    sent = []
    monkeypatch.setattr(
        "analytics.reports.services.current_app.send_task", lambda name, args=(): sent.append((name, *args))
    )
    return sent


@dataclass
class ReportWorld:
    lodz: object
    evil: object
    zoe: object
    in_week: list
    outside_week: list
    batch_confirmed: ProductionBatch
    batch_open: ProductionBatch
    direct_order: Order


def _order(buyer, *, day, quantity, unit_price, batch=None, status=Order.Status.POOLED, styles=("classic",), hour=12):
    order = OrderFactory(
        buyer=buyer,
        product_type=batch.product_type if batch else "hoodie",
        quantity=quantity,
        style_details=[{"style": style} for style in styles],
        unit_price=Decimal(unit_price),
        total_price=Decimal(unit_price) * quantity,
        workflow_status=status,
    )
    if batch is not None:
        BatchContributionFactory(batch=batch, order=order, quantity_contributed=quantity, unit_price=unit_price)
    Order.objects.filter(pk=order.pk).update(created_at=at(day, hour), pooled_at=at(day, hour) + timedelta(minutes=1))
    order.refresh_from_db()
    return order


@pytest.fixture
def world(db, alice, bob):
    """alice and bob buy; zoë (a buyer with a non-ASCII name) too; two suppliers, one of them
    named like a spreadsheet formula."""
    zoe = UserFactory(username="zoë")
    assign_role(zoe, BUYER)
    # Created directly, not through SupplierFactory: its name sequence shows in admin lists that
    # browser tests measure, and this fixture runs for most report tests.
    lodz = Supplier.objects.create(name="Łódź Knitwear 東京", code="lodz")
    evil = Supplier.objects.create(name='=HYPERLINK("http://evil.example","click")', code="evil")
    hoodies = SupplierOfferFactory(supplier=lodz, product_type="hoodie", moq=100)
    tees = SupplierOfferFactory(supplier=evil, product_type="tee", moq=50)

    confirmed = ProductionBatchFactory(offer=hoodies, target_quantity=100, current_quantity=80)
    ProductionBatch.objects.filter(pk=confirmed.pk).update(
        batch_status="confirmed", created_at=at(WEEK_START, 9), confirmed_at=at(WEEK_START + timedelta(days=2))
    )
    open_batch = ProductionBatchFactory(offer=tees, target_quantity=50, current_quantity=30)
    ProductionBatch.objects.filter(pk=open_batch.pk).update(created_at=at(WEEK_START + timedelta(days=1), 9))
    confirmed.refresh_from_db()
    open_batch.refresh_from_db()

    in_week = [
        _order(alice, day=WEEK_START, quantity=50, unit_price="11.50", batch=confirmed, styles=("classic", "=1+1")),
        _order(bob, day=WEEK_START + timedelta(days=1), quantity=30, unit_price="11.50", batch=confirmed),
        _order(zoe, day=WEEK_START + timedelta(days=1), quantity=30, unit_price="6.25", batch=open_batch,
               styles=("-2+3", "@SUM(A1)")),
        _order(alice, day=WEEK_END, quantity=7, unit_price="0", status=Order.Status.REJECTED, hour=23),
    ]  # fmt: skip
    direct = _order(bob, day=WEEK_START + timedelta(days=3), quantity=150, unit_price="9.20", status="confirmed")
    supplier_order = SupplierOrder.objects.create(
        order_number="SO-DIRECT-1",
        supplier=lodz,
        buyer_order=direct,
        product_type="hoodie",
        quantity=150,
        supplier_price=Decimal("8.00"),
        promised_date=WEEK_END + timedelta(days=14),
    )
    SupplierOrder.objects.filter(pk=supplier_order.pk).update(created_at=at(WEEK_START + timedelta(days=3), 13))
    batch_order = SupplierOrder.objects.create(
        order_number="SO-BATCH-1",
        supplier=lodz,
        batch=confirmed,
        product_type="hoodie",
        quantity=80,
        supplier_price=Decimal("10.00"),
        status="delivered",
        delivered_at=at(WEEK_END, 8),
        defective_units=2,
    )
    SupplierOrder.objects.filter(pk=batch_order.pk).update(created_at=at(WEEK_START + timedelta(days=2)))
    in_week.append(direct)
    outside_week = [
        _order(alice, day=WEEK_START - timedelta(days=1), quantity=5, unit_price="11.50", hour=23),
        _order(bob, day=WEEK_END + timedelta(days=1), quantity=5, unit_price="11.50", hour=0),
    ]
    return ReportWorld(lodz, evil, zoe, in_week, outside_week, confirmed, open_batch, direct)


def generate(report):
    """Run the generation the worker would run, in this process."""
    from analytics.reports.services import report_generate

    report_generate(report_id=report.pk)
    report.refresh_from_db()
    return report


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """``with commits():`` runs what the block queued with transaction.on_commit, as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
