import pytest
from django.db import connection, transaction
from django.utils import timezone

from batches.orchestration import _DECISION_COLUMNS, SWEEP_CHUNK_SIZE
from batches.selectors import batches_due_for_orchestration
from tests.conftest import requires_postgres

pytestmark = [pytest.mark.django_db, requires_postgres]

EXPECTED_INDEXES = ["batch_open_window_idx", "batch_open_fill_idx", "batch_open_not_nearing_idx"]


def test_each_due_selection_of_the_sweep_reads_its_partial_index():
    # given: a plan that could scan the table is priced out, so only an index that matches
    # the selection's conditions can serve it
    selections = batches_due_for_orchestration(now=timezone.now())
    plans = []

    # when
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for selection in selections:
            query = selection.select_for_update(skip_locked=True).values_list(*_DECISION_COLUMNS)[:SWEEP_CHUNK_SIZE]
            sql, params = query.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))

    # then: an ordered index scan, so a chunk stops after the rows it takes
    for plan, index in zip(plans, EXPECTED_INDEXES, strict=True):
        assert f"Index Scan using {index}" in plan or f"Index Scan Backward using {index}" in plan, plan
        assert "Sort" not in plan, plan
        assert "LockRows" in plan, plan
