"""Smoke tests of the bench package's helpers: maths, output and order generation, no services."""

import http.server
import json
import os
import random
import shutil
import threading
import time

import pytest
from django.db import connection

from bench import load, orders, procstats, results, services
from bench.invariants import check_invariants
from orders.api.serializers import OrderInputSerializer
from tests.conftest import requires_postgres
from tests.factories import BatchContributionFactory, OrderFactory, ProductionBatchFactory

GOALS = (
    ("pool_orders_per_s", ">=", 5000),
    ("api_requests_per_s", ">=", 1000),
    ("api_p95_ms", "<", 25),
    ("sweep_due_seconds", "<", 5),
    ("sweep_idle_ms", "<", 100),
)
ROWS = (
    ("orders", "orders generated", ""),
    ("pool_orders_per_s", "pooling throughput", "orders/s"),
    ("invariants_ok", "pooling invariants", ""),
    ("api_p95_ms", "API latency p95", "ms"),
)


def test_it_interpolates_percentiles_between_closest_ranks():
    # given
    values = [40, 10, 30, 20]  # sorted: 10 20 30 40

    # when / then
    assert results.percentile(values, 0.0) == 10
    assert results.percentile(values, 0.5) == 25
    assert results.percentile(values, 0.95) == pytest.approx(38.5)
    assert results.percentile(values, 1.0) == 40
    assert results.percentile([7], 0.95) == 7
    assert results.percentile([], 0.5) is None


@requires_postgres
@pytest.mark.django_db
def test_it_computes_percentiles_as_postgresql_percentile_cont_does():
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
    assert results.percentile(values, 0.5) == pytest.approx(p50)
    assert results.percentile(values, 0.95) == pytest.approx(p95)


def test_it_writes_the_figures_as_one_json_object_atomically(tmp_path):
    # given
    path = tmp_path / "nested" / "bench.json"
    figures = {"orders": 100_000, "pool_orders_per_s": 5123.4, "invariants_ok": True, "api_p95_ms": None}

    # when
    results.write_json(path, figures)
    results.write_json(path, dict(figures, orders=5))

    # then
    assert json.loads(path.read_text()) == dict(figures, orders=5)
    assert [p.name for p in path.parent.iterdir()] == ["bench.json"]  # no temporary file left behind


def test_it_judges_each_goal_and_leaves_unmeasured_ones_open():
    # given
    figures = {"pool_orders_per_s": 5000.0, "api_requests_per_s": 999.9, "api_p95_ms": 24.99, "sweep_idle_ms": None}

    # when
    goals = results.goal_results(figures, GOALS)

    # then
    assert goals == {
        "pool_orders_per_s": True,
        "api_requests_per_s": False,
        "api_p95_ms": True,
        "sweep_due_seconds": None,
        "sweep_idle_ms": None,
    }


def test_it_reads_the_figures_that_the_wrk_script_prints():
    # given
    output = (
        "Running 15s test @ http://127.0.0.1:8000/api/orders/\n"
        'BENCH_JSON {"requests": 18000, "duration_us": 15000000, "connect_errors": 0, "read_errors": 1, '
        '"write_errors": 0, "status_errors": 2, "timeouts": 0, "non2xx": 2, "p50_us": 6100, '
        '"p95_us": 14250, "p99_us": 20000, "max_us": 51000, "mean_us": 7000.5}\n'
        'BENCH_FIRST_BAD 429 {"detail": "throttled"}\n'
    )

    # when
    result = load.parse_wrk_output(output)

    # then
    assert result["requests_per_s"] == 1200.0
    assert (result["p50_ms"], result["p95_ms"], result["p99_ms"]) == (6.1, 14.25, 20.0)
    assert result["non2xx"] == 2
    assert result["socket_errors"] == 1
    assert result["first_bad"].startswith("429")


def test_it_fails_loudly_when_wrk_printed_no_figures():
    with pytest.raises(ValueError, match="no BENCH_JSON"):
        load.parse_wrk_output("unable to connect to 127.0.0.1:8000 Connection refused\n")


@pytest.fixture
def recording_server():
    """A loopback HTTP server that records each POST's token and body; 429 for the token "slow".

    It keeps connections alive, except after a request with the token "close" (as gunicorn's
    sync workers close every one).
    """
    seen: list[tuple[str, dict]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            token = self.headers["Authorization"].removeprefix("Token ")
            seen.append((token, body))
            status, payload = (429, b'{"detail": "throttled"}') if token == "slow" else (201, b"{}")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if token == "close":
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, seen
    server.shutdown()
    server.server_close()


def test_it_posts_every_body_and_rotates_the_tokens_with_the_wrk_script(recording_server):
    # given
    wrk = shutil.which("wrk")
    if wrk is None:
        if os.environ.get("SLEEKBATCH_REQUIRE_SERVICES") == "1":
            pytest.fail("wrk is not installed (apt-get install wrk; .ci/run does)")
        pytest.skip("wrk is not installed")
    server, seen = recording_server
    bodies = [{"product_type": "tee", "quantity": n, "style_details": [{"style": 'a"b\\c'}]} for n in (6, 10, 12)]
    tokens = ["tok-a", "tok-b", "slow"]

    # when
    result = load.run_wrk(
        wrk,
        f"http://127.0.0.1:{server.server_address[1]}/api/orders/",
        tokens=tokens,
        bodies=bodies,
        threads=2,
        connections=2,
        seconds=1,
    )

    # then every request carried one of the bodies, unchanged, and the tokens took turns
    assert result["requests"] >= 9
    assert {token for token, _ in seen} == set(tokens)
    assert all(body in bodies for _, body in seen)
    assert {body["quantity"] for _, body in seen} == {6, 10, 12}
    # the 429s of the "slow" token are counted and the first one is shown
    slow = sum(1 for token, _ in seen if token == "slow")
    assert 0 < result["non2xx"] <= slow
    assert result["first_bad"].startswith("429")
    assert result["socket_errors"] == 0


def test_it_sends_a_fixed_rate_on_schedule_over_connections_the_server_closes_or_keeps(recording_server):
    # given
    server, seen = recording_server
    bodies = [{"product_type": "tee", "quantity": n, "style_details": []} for n in (6, 10)]
    tokens = ["keep", "close", "slow", "keep2"]

    # when 200/s for 1 s
    started = time.monotonic()
    result = load.fixed_rate_load(
        "127.0.0.1", server.server_address[1], "/api/orders/", tokens, bodies, rate=200, seconds=1, connections=8
    )
    elapsed = time.monotonic() - started

    # then every request went out, on schedule, and got its answer
    assert result["requests"] == result["answered"] == len(seen) == 200
    assert 0.9 <= elapsed < 3
    assert result["requests_per_s"] == pytest.approx(200, rel=0.1)
    assert result["answered_per_s"] == pytest.approx(200 / result["seconds"], rel=0.01)  # kept up: ~200/s
    assert [token for token, _ in seen].count("close") == 50
    assert {body["quantity"] for _, body in seen} == {6, 10}
    assert result["non2xx"] == 50  # the "slow" token's 429s
    assert result["first_bad"].startswith("429")
    assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["max_ms"]


def test_it_counts_requests_that_find_no_server_as_failed():
    # given a port nobody listens on
    port = load.free_port()

    # when
    result = load.fixed_rate_load("127.0.0.1", port, "/", ["t"], [{}], rate=50, seconds=0.2, connections=2)

    # then
    assert result["requests"] == 10
    assert result["answered"] == 0
    assert result["non2xx"] == 10
    assert "Connect" in result["first_bad"] or "refused" in result["first_bad"].lower()


def test_it_generates_orders_that_the_intake_api_accepts():
    # given
    rng = random.Random(1)
    product_types = {"cap": 3, "hoodie": 4, "tee": 5, "tote": 2}

    # when
    payloads = [orders.order_payload(rng, product_types) for _ in range(300)]

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


def test_it_generates_the_same_orders_from_the_same_seed():
    first = [orders.order_payload(random.Random(42), {"tee": 5}) for _ in range(3)]
    again = [orders.order_payload(random.Random(42), {"tee": 5}) for _ in range(3)]
    assert first == again


def test_it_sums_the_resident_memory_of_a_process_tree():
    # given this test process, which is resident
    pid = os.getpid()

    # when
    own = procstats.rss_kib(pid)
    tree = procstats.tree_rss_kib(pid)

    # then
    assert own > 1024
    assert tree >= own
    assert procstats.rss_kib(2**22 + 12345) == 0  # a pid that does not exist


def test_it_refuses_anything_but_postgresql_and_redis():
    with pytest.raises(SystemExit, match="needs PostgreSQL"):
        services.service_urls({"DATABASE_URL": "sqlite:///x.db", "CELERY_BROKER_URL": "redis://h/1"})
    with pytest.raises(SystemExit, match="needs Redis"):
        services.service_urls({"DATABASE_URL": "postgres://h/db", "CELERY_BROKER_URL": "filesystem://"})
    assert services.service_urls({"DATABASE_URL": "postgres://h/db", "CELERY_BROKER_URL": "redis://h/1"}) == (
        "postgres://h/db",
        "redis://h/1",
    )


def test_it_renders_skipped_phases_and_missed_goals_in_the_table():
    # when
    table = results.render_table(
        {"orders": 1000, "pool_orders_per_s": 4200.0, "invariants_ok": True, "api_p95_ms": None}, ROWS, GOALS
    )

    # then
    assert "4,200.0 orders/s  GOAL MISSED" in table
    assert "PASS" in table
    assert "skipped" in table


def test_it_escapes_values_for_a_text_copy():
    assert orders.copy_text(None) == r"\N"
    assert orders.copy_text(True) == "t"
    assert orders.copy_text(12) == "12"
    assert orders.copy_text('{"a": "x\\y"}') == '{"a": "x\\\\y"}'
    assert orders.copy_text("tab\there\nnew") == "tab\\there\\nnew"


def test_it_writes_one_copy_line_per_order_with_every_column():
    # given
    from orders.models import Order

    fields = [f for f in Order._meta.concrete_fields if not f.generated]
    fixed = {"workflow_status": "submitted", "created_at": orders.SUBMITTED_AT_MARK}

    # when
    data = orders.order_copy_rows(50, seed=3, buyers=[7, 8], product_types={"tee": 5}, fields=fields, fixed=fixed)

    # then
    lines = data.splitlines()
    assert len(lines) == 50
    columns = [f.attname for f in fields]
    for line in lines:
        row = dict(zip(columns, line.split("\t"), strict=True))
        assert row["workflow_status"] == "submitted"
        assert row["created_at"] == orders.SUBMITTED_AT_MARK
        assert row["buyer_id"] in {"7", "8"}
        assert json.loads(row["style_details"])[0]["style"] in orders.STYLE_WEIGHTS
    assert len({line.split("\t")[columns.index("id")] for line in lines}) == 50


def test_it_shows_a_pooling_timeout_as_such_not_as_skipped():
    table = results.render_table(
        {"orders": 10, "pool_orders_per_s": None, "pool_timed_out": True, "api_p95_ms": None}, ROWS, GOALS
    )
    assert "TIMED OUT" in table
    assert "skipped" in table  # the API row


@requires_postgres
@pytest.mark.django_db
def test_it_finds_no_violation_in_consistent_pooling():
    # given a batch holding two whole orders
    batch = ProductionBatchFactory(current_quantity=30, styles=["classic"])
    for quantity in (10, 20):
        BatchContributionFactory(
            batch=batch, order__quantity=quantity, order__workflow_status="pooled", quantity_contributed=quantity
        )

    # when
    violations = check_invariants()

    # then
    assert set(violations.values()) == {0}


@requires_postgres
@pytest.mark.django_db
def test_it_reports_the_invariants_that_a_wrong_result_breaks():
    # given a batch whose quantity disagrees with its contributions, an order left
    # submitted, and a pooled order whose contribution is short of its quantity
    batch = ProductionBatchFactory(current_quantity=25, styles=["classic"])
    BatchContributionFactory(batch=batch, order__quantity=10, order__workflow_status="pooled", quantity_contributed=8)
    OrderFactory(workflow_status="submitted")

    # when
    violations = check_invariants()

    # then
    assert violations["no order left submitted"] == 1
    assert violations["batch current_quantity = sum of its contributions"] == 1
    assert violations["every pooled batch order has one contribution of its whole quantity"] == 1
    assert violations["no order with two contributions"] == 0


def test_it_spreads_the_load_over_enough_buyers_to_stay_at_half_of_every_throttle_limit(settings):
    # given 600 orders a minute per buyer and 1,200 requests a minute of any kind
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1200/min", "orders_submit": "600/min", "anon": "60/min"},
    }

    # when / then: 500 orders/s need 100 buyers at 5 a second each (half of 10/s)
    assert services.buyers_for_rate(500) == 100
    assert services.buyers_for_rate(2000) == 400
    assert services.buyers_for_rate(10, at_least=50) == 50
    # a scope without a rate does not limit
    assert services.buyers_for_rate(500, scopes=("user", "no_such_scope")) == 50
