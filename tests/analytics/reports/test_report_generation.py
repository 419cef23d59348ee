"""Generation as the worker runs it: failures leave no file and say why, a duplicate delivery
cannot leave two files, retention, and reads going to the replica."""

import copy
import dataclasses
import os
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from analytics.reports.models import Report
from analytics.reports.services import report_generate, report_request, reports_purge_expired
from tests.analytics.reports.conftest import WEEK_END, WEEK_START, generate
from tests.conftest import requires_postgres


def files_under(root) -> list[str]:
    return [os.path.join(folder, name) for folder, _, names in os.walk(root) for name in names]


def request(user, fmt="csv", kind="orders"):
    return report_request(user=user, kind=kind, format=fmt, date_from=WEEK_START, date_to=WEEK_END)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_a_generation_that_fails_midway_leaves_no_file_and_says_why(world, olivia, monkeypatch, media_root, fmt):
    # given: the third row cannot be read
    from analytics.reports import kinds

    spec = kinds.KINDS["orders"]

    def breaks_on_third_row(report):
        for number, values in enumerate(spec.query(report), start=1):
            if number == 3:
                raise ValueError("a row the writer cannot handle")
            yield values

    monkeypatch.setitem(kinds.KINDS, "orders", dataclasses.replace(spec, fetch=breaks_on_third_row))
    report = request(olivia, fmt)

    # when
    with pytest.raises(ValueError):
        report_generate(report_id=report.pk)

    # then
    report.refresh_from_db()
    assert report.status == "failed"
    assert report.failure_reason == "ValueError: a row the writer cannot handle"
    assert not report.file and report.finished_at is not None
    assert files_under(media_root) == []


def test_a_pdf_that_grew_past_the_cap_after_it_was_requested_fails_pointing_to_xlsx(world, olivia, settings):
    report = request(olivia, "pdf")
    settings.REPORT_PDF_MAX_ROWS = 2

    report = generate(report)

    assert report.status == "failed" and "XLSX" in report.failure_reason
    assert not report.file


def test_a_report_already_done_is_not_generated_again(world, olivia, media_root):
    report = generate(request(olivia))
    first_file = report.file.name

    assert report_generate(report_id=report.pk) is None

    report.refresh_from_db()
    assert report.file.name == first_file and report.attempt == 1
    assert len(files_under(media_root)) == 1


def test_when_a_redelivered_attempt_takes_over_only_its_file_is_kept(world, olivia, media_root, monkeypatch):
    # given: while attempt 1 writes, the task is redelivered and attempt 2 starts and finishes
    from analytics.reports import services

    report = request(olivia)
    real_write = services._write
    calls = []

    def write_and_get_overtaken(report_, spec, rows, path, generated_at):
        count = real_write(report_, spec, rows, path, generated_at)
        calls.append(report_.attempt)
        if len(calls) == 1:
            services.report_generate(report_id=report_.pk)  # the redelivered duplicate
        return count

    monkeypatch.setattr(services, "_write", write_and_get_overtaken)

    # when
    services.report_generate(report_id=report.pk)

    # then: attempt 2 won; attempt 1's finished file was deleted, not left behind
    report.refresh_from_db()
    assert calls == [1, 2]
    assert report.status == "done" and report.attempt == 2
    assert files_under(media_root) == [report.file.path]


def test_retention_deletes_old_files_and_fails_reports_whose_worker_vanished(world, olivia, media_root):
    old = generate(request(olivia))
    fresh = generate(request(olivia, "xlsx"))
    Report.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=31))
    stuck = request(olivia)
    Report.objects.filter(pk=stuck.pk).update(status="running", started_at=timezone.now() - timedelta(hours=2))
    partial_dir = media_root / "reports" / "partial"
    leftover = partial_dir / "x.csv.partial"
    leftover.write_text("half a file")
    os.utime(leftover, (0, 0))

    result = reports_purge_expired()

    assert result == {"expired": 1, "abandoned": 1, "partials_removed": 1}
    old.refresh_from_db()
    stuck.refresh_from_db()
    assert old.status == "expired" and not old.file
    assert stuck.status == "failed" and "interrupted" in stuck.failure_reason
    assert files_under(media_root) == [fresh.file.path]


@pytest.fixture
def replica_alias():
    """A "replica" alias pointing at the same (test) database, as a real replica would mirror it."""
    replica = copy.deepcopy(connections["default"].settings_dict)
    replica.get("OPTIONS", {}).pop("pool", None)
    replica["CONN_MAX_AGE"] = 0
    connections.settings["replica"] = replica  # the same dict as settings.DATABASES
    # Connected here: the test case only lets aliases it was set up with open connections lazily.
    connections["replica"].connect()
    yield "replica"
    connections["replica"].close()
    del connections.settings["replica"]
    del connections["replica"]


@pytest.mark.django_db(transaction=True)
def test_report_queries_go_to_the_replica_and_intake_reads_stay_on_the_primary(replica_alias, olivia, alice):
    # given
    from tests.factories import OrderFactory

    order = OrderFactory(buyer=alice)
    report = report_request(
        user=olivia, kind="orders", format="csv", date_from=timezone.now().date(), date_to=timezone.now().date()
    )
    on_replica, on_default = [], []

    def recorder(into):
        def record(execute, sql, params, many, context):
            into.append(sql)
            return execute(sql, params, many, context)

        return record

    # when
    with connections["replica"].execute_wrapper(recorder(on_replica)):
        with connections["default"].execute_wrapper(recorder(on_default)):
            generate(report)
            from orders.models import Order

            Order.objects.get(pk=order.pk)  # an ordinary read, outside heavy_reads()

    # then
    report.refresh_from_db()
    assert report.status == "done" and report.row_count == 1
    assert any('FROM "orders_order"' in sql for sql in on_replica)
    assert not any('FROM "orders_order"' in sql and "ORDER BY" in sql for sql in on_default)
    assert any('FROM "orders_order"' in sql for sql in on_default)  # the plain read
    assert all(not sql.lstrip().upper().startswith("UPDATE") for sql in on_replica)  # writes on the primary


def test_database_replica_url_adds_a_replica_alias_that_tests_mirror(tmp_path):
    import json
    import subprocess
    import sys

    from django.conf import settings as django_settings

    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({a: [d['NAME'], d['TEST'].get('MIRROR')] for a, d in settings.DATABASES.items()}))"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"}},
        "DJANGO_SETTINGS_MODULE": "sleekbatch.settings",
        "SLEEKBATCH_VAR_DIR": str(tmp_path),
        "DATABASE_URL": "postgres://u@primary.example:5432/sleekbatch",
        "DATABASE_REPLICA_URL": "postgres://u@replica.example:5432/sleekbatch",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=django_settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "default": ["sleekbatch", None],
        "replica": ["sleekbatch", "default"],
    }


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_on_the_replica_the_rows_are_read_in_a_transaction_so_the_cursor_is_not_held(
    replica_alias, olivia, alice, monkeypatch
):
    # given: an XLSX (read through Django's server-side cursor), its rows read on the replica
    from analytics.reports import services
    from tests.factories import OrderFactory

    OrderFactory(buyer=alice)
    report = report_request(
        user=olivia, kind="orders", format="xlsx", date_from=timezone.now().date(), date_to=timezone.now().date()
    )
    real_write = services._write
    seen = []

    def write(report_, spec, rows, path, generated_at):
        def watched():
            for row in rows:
                seen.append((connections["replica"].in_atomic_block, connections["default"].in_atomic_block))
                yield row

        return real_write(report_, spec, watched(), path, generated_at)

    # when
    monkeypatch.setattr(services, "_write", write)
    generate(report)

    # then: a transaction on the replica (a cursor WITHOUT HOLD), none on the primary (progress stays visible)
    report.refresh_from_db()
    assert report.status == "done" and report.row_count == 1
    assert seen == [(True, False)]
    assert not connections["replica"].in_atomic_block
