"""Smoke tests of scripts/bench.py's helpers: maths, output and order generation, no services."""

import importlib.util
import json
import os
import random
import sys
from pathlib import Path

import pytest
from django.db import connection

from orders.api.serializers import OrderInputSerializer
from tests.conftest import requires_postgres
from tests.factories import BatchContributionFactory, OrderFactory, ProductionBatchFactory

BENCH_PATH = Path(__file__).resolve().parents[2] / "scripts" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_script", BENCH_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_it_interpolates_percentiles_between_closest_ranks(bench):
    # given
    values = [40, 10, 30, 20]  # sorted: 10 20 30 40

    # when / then
    assert bench.percentile(values, 0.0) == 10
    assert bench.percentile(values, 0.5) == 25
    assert bench.percentile(values, 0.95) == pytest.approx(38.5)
    assert bench.percentile(values, 1.0) == 40
    assert bench.percentile([7], 0.95) == 7
    assert bench.percentile([], 0.5) is None


@requires_postgres
@pytest.mark.django_db
def test_it_computes_percentiles_as_postgresql_percentile_cont_does(bench):
    # given
    rng = random.Random(7)
    values = [round(rng.uniform(0, 100), 3) for _ in range(101)]

    # when
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v), percentile_cont(0.95) WITHIN GROUP (ORDER BY v) "
            "FROM unnest(%s::float8[]) AS v",
            [values],
        )
        p50, p95 = cursor.fetchone()

    # then
    assert bench.percentile(values, 0.5) == pytest.approx(p50)
    assert bench.percentile(values, 0.95) == pytest.approx(p95)


def test_it_writes_the_figures_as_one_json_object_atomically(bench, tmp_path):
    # given
    path = tmp_path / "nested" / "bench.json"
    figures = {"orders": 100_000, "pool_orders_per_s": 5123.4, "invariants_ok": True, "api_p95_ms": None}

    # when
    bench.write_json(path, figures)
    bench.write_json(path, dict(figures, orders=5))

    # then
    assert json.loads(path.read_text()) == dict(figures, orders=5)
    assert [p.name for p in path.parent.iterdir()] == ["bench.json"]  # no temporary file left behind


def test_it_judges_each_goal_and_leaves_unmeasured_ones_open(bench):
    # given
    figures = {"pool_orders_per_s": 5000.0, "api_requests_per_s": 999.9, "api_p95_ms": 24.99, "sweep_idle_ms": None}

    # when
    goals = bench.goal_results(figures)

    # then
    assert goals == {
        "pool_orders_per_s": True,
        "api_requests_per_s": False,
        "api_p95_ms": True,
        "sweep_due_seconds": None,
        "sweep_idle_ms": None,
    }


def test_it_reads_the_figures_that_the_wrk_script_prints(bench):
    # given
    output = (
        "Running 15s test @ http://127.0.0.1:8000/api/orders/\n"
        'BENCH_JSON {"requests": 18000, "duration_us": 15000000, "connect_errors": 0, "read_errors": 1, '
        '"write_errors": 0, "status_errors": 2, "timeouts": 0, "non2xx": 2, "p50_us": 6100, '
        '"p95_us": 14250, "p99_us": 20000, "max_us": 51000, "mean_us": 7000.5}\n'
        'BENCH_FIRST_BAD 429 {"detail": "throttled"}\n'
    )

    # when
    result = bench.parse_wrk_output(output)

    # then
    assert result["requests_per_s"] == 1200.0
    assert (result["p50_ms"], result["p95_ms"], result["p99_ms"]) == (6.1, 14.25, 20.0)
    assert result["non2xx"] == 2
    assert result["socket_errors"] == 1
    assert result["first_bad"].startswith("429")


def test_it_fails_loudly_when_wrk_printed_no_figures(bench):
    with pytest.raises(ValueError, match="no BENCH_JSON"):
        bench.parse_wrk_output("unable to connect to 127.0.0.1:8000 Connection refused\n")


def test_it_builds_a_wrk_script_with_the_token_and_escaped_bodies(bench):
    # when
    script = bench.wrk_script("abc123", [{"product_type": "tee", "quantity": 12, "style_details": [{"style": 'a"b'}]}])

    # then
    assert 'wrk.headers["Authorization"] = "Token abc123"' in script
    assert r'"{\"product_type\": \"tee\"' in script
    assert r"a\\\"b" in script


def test_it_generates_orders_that_the_intake_api_accepts(bench):
    # given
    rng = random.Random(1)
    product_types = {"cap": 3, "hoodie": 4, "tee": 5, "tote": 2}

    # when
    payloads = [bench.order_payload(rng, product_types) for _ in range(300)]

    # then each is valid input to the API (the catalogue check needs the database: the bench run covers it)
    for payload in payloads:
        serializer = OrderInputSerializer(data=payload)
        assert serializer.is_valid(), (payload, serializer.errors)
        assert payload["product_type"] in product_types
        assert 1 <= len(payload["style_details"]) <= min(3, product_types[payload["product_type"]])
        assert len({item["style"] for item in payload["style_details"]}) == len(payload["style_details"])
        with_sizes = ["sizes" in item for item in payload["style_details"]]
        assert all(with_sizes) or not any(with_sizes)
        if all(with_sizes):
            assert sum(sum(item["sizes"].values()) for item in payload["style_details"]) == payload["quantity"]
            assert all(count >= 1 for item in payload["style_details"] for count in item["sizes"].values())
    assert {len(p["style_details"]) for p in payloads} == {1, 2, 3}


def test_it_generates_the_same_orders_from_the_same_seed(bench):
    first = [bench.order_payload(random.Random(42), {"tee": 5}) for _ in range(3)]
    again = [bench.order_payload(random.Random(42), {"tee": 5}) for _ in range(3)]
    assert first == again


def test_it_sums_the_resident_memory_of_a_process_tree(bench):
    # given this test process, which is resident
    pid = os.getpid()

    # when
    own = bench.rss_kib(pid)
    tree = bench.tree_rss_kib(pid)

    # then
    assert own > 1024
    assert tree >= own
    assert bench.rss_kib(2**22 + 12345) == 0  # a pid that does not exist


def test_it_refuses_anything_but_postgresql_and_redis(bench):
    with pytest.raises(SystemExit, match="needs PostgreSQL"):
        bench.service_urls({"DATABASE_URL": "sqlite:///x.db", "CELERY_BROKER_URL": "redis://h/1"})
    with pytest.raises(SystemExit, match="needs Redis"):
        bench.service_urls({"DATABASE_URL": "postgres://h/db", "CELERY_BROKER_URL": "filesystem://"})
    assert bench.service_urls({"DATABASE_URL": "postgres://h/db", "CELERY_BROKER_URL": "redis://h/1"}) == (
        "postgres://h/db",
        "redis://h/1",
    )


def test_it_renders_skipped_phases_and_missed_goals_in_the_table(bench):
    # when
    table = bench.render_table({"orders": 1000, "pool_orders_per_s": 4200.0, "invariants_ok": True, "api_p95_ms": None})

    # then
    assert "4,200.0 orders/s  GOAL MISSED" in table
    assert "PASS" in table
    assert "skipped" in table


def test_it_escapes_values_for_a_text_copy(bench):
    assert bench.copy_text(None) == r"\N"
    assert bench.copy_text(True) == "t"
    assert bench.copy_text(12) == "12"
    assert bench.copy_text('{"a": "x\\y"}') == '{"a": "x\\\\y"}'
    assert bench.copy_text("tab\there\nnew") == "tab\\there\\nnew"


def test_it_writes_one_copy_line_per_order_with_every_column(bench):
    # given
    from orders.models import Order

    fields = [f for f in Order._meta.concrete_fields if not f.generated]
    fixed = {"workflow_status": "submitted", "created_at": bench.SUBMITTED_AT_MARK}

    # when
    data = bench.order_copy_rows(50, seed=3, buyers=[7, 8], product_types={"tee": 5}, fields=fields, fixed=fixed)

    # then
    lines = data.splitlines()
    assert len(lines) == 50
    columns = [f.attname for f in fields]
    for line in lines:
        row = dict(zip(columns, line.split("\t"), strict=True))
        assert row["workflow_status"] == "submitted"
        assert row["created_at"] == bench.SUBMITTED_AT_MARK
        assert row["buyer_id"] in {"7", "8"}
        assert json.loads(row["style_details"])[0]["style"] in bench.STYLE_WEIGHTS
    assert len({line.split("\t")[columns.index("id")] for line in lines}) == 50


def test_it_shows_a_pooling_timeout_as_such_not_as_skipped(bench):
    table = bench.render_table({"orders": 10, "pool_orders_per_s": None, "pool_timed_out": True, "api_p95_ms": None})
    assert "TIMED OUT" in table
    assert "skipped" in table  # the API row


@requires_postgres
@pytest.mark.django_db
def test_it_finds_no_violation_in_consistent_pooling(bench):
    # given a batch holding two whole orders
    batch = ProductionBatchFactory(current_quantity=30, styles=["classic"])
    for quantity in (10, 20):
        BatchContributionFactory(
            batch=batch, order__quantity=quantity, order__workflow_status="pooled", quantity_contributed=quantity
        )

    # when
    violations = bench.check_invariants()

    # then
    assert set(violations.values()) == {0}


@requires_postgres
@pytest.mark.django_db
def test_it_reports_the_invariants_that_a_wrong_result_breaks(bench):
    # given a batch whose quantity disagrees with its contributions, an order left
    # submitted, and a pooled order whose contribution is short of its quantity
    batch = ProductionBatchFactory(current_quantity=25, styles=["classic"])
    BatchContributionFactory(batch=batch, order__quantity=10, order__workflow_status="pooled", quantity_contributed=8)
    OrderFactory(workflow_status="submitted")

    # when
    violations = bench.check_invariants()

    # then
    assert violations["no order left submitted"] == 1
    assert violations["batch current_quantity = sum of its contributions"] == 1
    assert violations["every pooled batch order has one contribution of its whole quantity"] == 1
    assert violations["no order with two contributions"] == 0
