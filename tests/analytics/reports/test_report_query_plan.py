"""The orders report reads its date range in report order straight off order_created_idx: a month
of millions of orders is never sorted on disk before its first row comes out."""

import pytest
from django.db import connection, transaction

from analytics.reports.kinds import kind_spec
from analytics.reports.models import Report
from tests.analytics.reports.conftest import WEEK_END, WEEK_START
from tests.conftest import requires_postgres

pytestmark = [pytest.mark.django_db, requires_postgres]


def test_the_orders_report_query_reads_the_created_at_index_without_a_sort(world, olivia):
    # given: a plan that could scan the table is priced out; the report's query as the worker runs
    # it, through a server-side cursor (which PostgreSQL plans for its first rows)
    report = Report(kind="orders", format="csv", date_from=WEEK_START, date_to=WEEK_END, scope="ops")
    sql, params = kind_spec("orders").query(report).query.sql_with_params()

    # when
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN DECLARE report_rows NO SCROLL CURSOR FOR {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # then: an ordered index scan over the range, nothing sorted
    assert "Index Scan using order_created_idx on orders_order" in plan, plan
    assert "Sort" not in plan, plan
