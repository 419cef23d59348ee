"""The set-based SQL module: statements named from model metadata, values prepared by their fields."""

import json
import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connections, transaction
from django.db.models import DateField
from django.utils import timezone

from batches.models import BatchEvent, ProductionBatch
from orders.models import Order
from sleekbatch import sql
from suppliers.models import SupplierScoreSnapshot
from tests.conftest import requires_postgres
from tests.factories import OrderFactory, ProductionBatchFactory, SupplierFactory

ROOT = Path(__file__).resolve().parents[2]
APPS = ("sleekbatch", "suppliers", "orders", "batches", "analytics")
# The apps held to the convention. analytics (rollups, reports) still builds some statements of
# its own; moving them onto sleekbatch/sql.py is its owner's next step.
CONVENTION_APPS = ("sleekbatch", "orders", "batches", "suppliers")


def test_insert_select_writes_every_row_in_one_statement_with_the_fields_defaults(db, django_assert_num_queries):
    # given
    batches = [ProductionBatchFactory() for _ in range(3)]
    ids = sql.in_list(ProductionBatch, "id", [batch.id for batch in batches])
    statement = sql.insert_select(
        BatchEvent,
        {
            "batch": sql.Sql(sql.column(ProductionBatch, "id")),
            "kind": BatchEvent.Kind.NEARING_TARGET,
            "fill_percent": sql.Sql(f"{sql.column(ProductionBatch, 'fill_basis_points')} / 100.0"),
            "correlation_id": "req-1",
            "created_at": batches[0].created_at,
        },
        sql.Sql(
            f"FROM {sql.table(ProductionBatch)} WHERE {sql.column(ProductionBatch, 'id')} IN ({ids.sql})", ids.params
        ),
    )

    # when
    with django_assert_num_queries(1):
        written = sql.execute(statement)

    # then: named values as given, the others at their defaults (details {}, no actor)
    events = BatchEvent.objects.order_by("batch_id")
    assert written == 3
    assert [(event.batch_id, event.kind, event.details, event.actor_id) for event in events] == [
        (batch.id, "nearing_target", {}, None) for batch in sorted(batches, key=lambda batch: batch.id)
    ]


def test_update_returning_moves_only_the_rows_still_matching_and_returns_python_values(db):
    # given
    open_batch = ProductionBatchFactory(supplier_unit_price="10.50")
    cancelled = ProductionBatchFactory(batch_status=ProductionBatch.Status.CANCELLED)
    candidates = ProductionBatch.objects.filter(
        id__in=[open_batch.id, cancelled.id], batch_status=ProductionBatch.Status.OPEN
    )

    # when
    moved = sql.update_returning(
        candidates, {"batch_status": ProductionBatch.Status.CONFIRMED}, ["id", "supplier_unit_price"]
    )
    moved_again = sql.update_returning(
        candidates, {"batch_status": ProductionBatch.Status.CONFIRMED}, ["id", "supplier_unit_price"]
    )

    # then
    assert moved == [(open_batch.id, Decimal("10.50"))]
    assert isinstance(moved[0][0], uuid.UUID)
    assert moved_again == []
    cancelled.refresh_from_db()
    assert cancelled.batch_status == ProductionBatch.Status.CANCELLED


def test_insert_row_stores_what_save_would(alice):
    # given
    order = Order(buyer=alice, product_type="tee", quantity=5, style_details=[{"style": "classic"}])

    # when
    sql.insert_row(order)

    # then
    stored = Order.objects.get(pk=order.pk)
    assert (stored.quantity, stored.style_details, stored.workflow_status) == (5, [{"style": "classic"}], "submitted")
    assert not order._state.adding


@pytest.mark.parametrize("standing", ["good", "watch"])
def test_insert_columns_writes_rows_column_by_column_and_overwrites_a_row_on_its_key(db, standing):
    # given: two suppliers, one already with today's snapshot
    first, second = SupplierFactory(), SupplierFactory()
    day, now = date(2026, 3, 2), timezone.now()
    constants = {"day": day, "window_days": 90, "computed_at": now}
    key = ("supplier_id", "day")
    sql.insert_columns(
        SupplierScoreSnapshot,
        columns={"supplier_id": [first.id], "standing": ["poor"], "orders_counted": [1]},
        constants=constants,
        conflict=key,
    )

    # when
    ids = sql.insert_columns(
        SupplierScoreSnapshot,
        columns={"supplier_id": [first.id, second.id], "standing": [standing] * 2, "orders_counted": [7, 8]},
        constants=constants,
        conflict=key,
    )

    # then: the first supplier's snapshot overwritten, the second's added, both keys returned
    snapshots = SupplierScoreSnapshot.objects.order_by("orders_counted")
    assert [(s.supplier_id, s.day, s.standing, s.orders_counted, s.window_days) for s in snapshots] == [
        (first.id, day, standing, 7, 90),
        (second.id, day, standing, 8, 90),
    ]
    assert sorted(ids) == sorted(snapshots.values_list("id", flat=True))
    assert sql.insert_columns(SupplierScoreSnapshot, columns={"supplier_id": []}) == []


@requires_postgres
def test_work_mem_is_raised_for_the_transaction_only(transactional_db):
    with transaction.atomic():
        sql.work_mem_for_transaction(64)
        assert sql.fetch_one(sql.Sql("SHOW work_mem")) == ("64MB",)
    assert sql.fetch_one(sql.Sql("SHOW work_mem")) != ("64MB",)


def test_insert_select_takes_named_placeholders_when_its_source_does(db):
    # given: the bench's seeding style, %(name)s placeholders in a mapping
    batch = ProductionBatchFactory()
    batch_id = sql.in_list(ProductionBatch, "id", [batch.id]).params[0]  # as the database stores it
    statement = sql.insert_select(
        BatchEvent,
        {
            "batch_id": sql.Sql("%(batch)s", {"batch": batch_id}),
            "kind": BatchEvent.Kind.NEARING_TARGET,
            "fill_percent": sql.Sql("%(fill)s"),
            "created_at": timezone.now(),
        },
        sql.Sql(
            f"FROM {sql.table(ProductionBatch)} WHERE {sql.column(ProductionBatch, 'id')} = %(batch)s", {"fill": 80}
        ),
    )

    # when
    written = sql.execute(statement)

    # then: the constants and the defaults (details) under their own names
    event = BatchEvent.objects.get()
    assert written == 1
    assert isinstance(statement.params, dict) and "insert_batchevent_kind" in statement.params
    assert (event.batch_id, event.kind, event.fill_percent, event.details) == (
        batch.id,
        "nearing_target",
        Decimal("80.00"),
        {},
    )


def test_fetch_as_orm_reads_values_as_the_orm_does(db):
    order = OrderFactory()
    names = ["id", "created_at", "unit_price", "style_details"]
    columns = ", ".join(sql.column(Order, name) for name in names)
    where = f"WHERE {sql.column(Order, 'id')} = %s"

    rows = sql.fetch_as_orm(
        sql.Sql(f"SELECT {columns}, 1 FROM {sql.table(Order)} {where}", sql.in_list(Order, "id", [order.id]).params),
        Order,
        names,
    )

    orm = Order.objects.filter(id=order.id).values_list(*names).get()
    assert rows == [[*orm, 1]]
    assert rows[0][1].tzinfo is not None  # aware on SQLite too


def test_delete_where_deletes_the_querysets_rows_in_one_statement(db, django_assert_num_queries):
    kept, *gone = [OrderFactory(product_type=kind) for kind in ("hoodie", "tote", "tote")]

    with django_assert_num_queries(1):
        deleted = sql.delete_where(Order.objects.filter(product_type="tote"))

    assert deleted == 2
    assert list(Order.objects.values_list("id", flat=True)) == [kept.id]


@requires_postgres
def test_analyze_refreshes_the_planners_statistics(db):
    OrderFactory()

    sql.analyze(Order)

    stats = sql.fetch_one(sql.Sql("SELECT reltuples FROM pg_class WHERE relname = %s", (Order._meta.db_table,)))
    assert stats[0] >= 1


@requires_postgres
def test_recordset_types_its_columns_from_the_model(db):
    # given
    order = OrderFactory()
    rows = [{"id": str(order.id), "unit_price": "9.50", "style_details": [{"style": "zip"}], "batch_id": None}]
    source = sql.recordset(Order, ["id", "unit_price", "style_details"], extra={"batch_id": "uuid"}, alias="d")

    # when
    row = sql.fetch_one(
        sql.Sql(f"SELECT d.id, d.unit_price, d.style_details, d.batch_id FROM {source}", (sql.json_rows(rows),))
    )

    # then
    assert '"unit_price" numeric(10, 2)' in source and '"style_details" jsonb' in source
    assert (row[0], row[1], json.loads(row[2]) if isinstance(row[2], str) else row[2], row[3]) == (
        order.id,
        Decimal("9.50"),
        [{"style": "zip"}],
        None,
    )


@requires_postgres
def test_advisory_lock_is_refused_to_a_second_connection_without_waiting(transactional_db):
    other = connections.create_connection("default")
    try:
        with transaction.atomic():
            assert sql.advisory_xact_lock(0x5B0012, 7, wait=False) is True
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [0x5B0012, 7])
                assert cursor.fetchone()[0] is False
    finally:
        other.close()


def _project_sources():
    for app in CONVENTION_APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts and path != ROOT / "sleekbatch" / "sql.py":
                yield path, path.read_text()


def test_only_the_sql_module_and_the_health_checks_open_a_cursor():
    allowed = {
        ROOT / "sleekbatch" / "services_check.py",  # SELECT 1: is the database there
        ROOT / "sleekbatch" / "tasks.py",  # the same, from a worker
    }
    opening = sorted(str(path.relative_to(ROOT)) for path, text in _project_sources() if ".cursor()" in text)
    assert [path for path in opening if ROOT / path not in allowed] == []


def test_no_module_types_a_table_name_by_hand():
    tables = {model._meta.db_table for model in apps.get_models() if model._meta.app_label in APPS}
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, tables))) + r")\b")
    found = sorted(
        f"{path.relative_to(ROOT)}: {match.group(1)}"
        for path, text in _project_sources()
        for match in pattern.finditer(text)
    )
    assert found == []


def test_texts_built_in_sql_read_as_python_formats_them(db):
    # given
    order = OrderFactory(quantity=7, total_price=Decimal("1234.5"))
    when = datetime(2026, 3, 5, 9, 7, tzinfo=UTC)
    o = lambda name: sql.Sql(f"o.{sql.column(Order, name)}")  # noqa: E731
    texts = [
        sql.concat(o("quantity"), " × ", sql.text_prefix(o("id"), 8)),
        sql.decimal_text(o("total_price"), 2),
        sql.decimal_text(sql.Sql("%s", (Decimal("0"),)), 2),
        sql.date_text(sql.Sql("%s", (sql_date(when.date()),))),
        sql.datetime_text_utc(sql.Sql("%s", (sql_datetime(when),))),
    ]
    select = ", ".join(text.sql for text in texts)
    params = tuple(param for text in texts for param in text.params)
    statement = sql.Sql(
        f"SELECT {select} FROM {sql.table(Order)} o WHERE o.{sql.column(Order, 'id')} = %s",
        (*params, *sql.in_list(Order, "id", [order.id]).params),
    )

    # when
    row = sql.fetch_one(statement)

    # then
    assert row == (f"7 × {str(order.id)[:8]}", "1234.50", "0.00", "Mar 05, 2026", "Mar 05, 2026 09:07")


def test_with_queries_and_update_where_write_over_the_named_rows(db):
    # given: two orders, one of them named by the first query
    first, second = OrderFactory(), OrderFactory()
    ids = sql.in_list(Order, "id", [first.id])
    named = sql.select_columns(Order, ["id"], sql.Sql(f"{sql.column(Order, 'id')} IN ({ids.sql})", ids.params))
    update = sql.update_where(
        Order,
        {"rejection_reason": "named"},
        sql.Sql(f"{sql.column(Order, 'id')} IN (SELECT {sql.column(Order, 'id')} FROM picked)"),
    )

    # when
    written = sql.execute(sql.with_queries([("picked", named)], update))

    # then
    assert written == 1
    assert dict(Order.objects.values_list("id", "rejection_reason")) == {first.id: "named", second.id: ""}


def sql_date(value):
    return DateField().get_db_prep_value(value, connections["default"])


def sql_datetime(value):
    return Order._meta.get_field("created_at").get_db_prep_value(value, connections["default"])


@requires_postgres
@pytest.mark.django_db
def test_copy_csv_rows_streams_one_csv_line_per_row_of_a_querysets_select():
    # given
    first, second = OrderFactory(quantity=3), OrderFactory(quantity=7)
    orders = Order.objects.filter(pk__in=[first.pk, second.pk], quantity__gte=1).order_by("quantity")

    # when
    lines = list(sql.copy_csv_rows(sql.queryset_sql(orders.values_list("quantity", "product_type"))))

    # then: the queryset's parameters bound, one "\n"-ended line a row, in the queryset's order
    assert lines == [f"3,{first.product_type}\n".encode(), f"7,{second.product_type}\n".encode()]
