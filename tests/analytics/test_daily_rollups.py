import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from analytics.models import DailyStats, RollupRun
from analytics.rollups import daily_stats_rollup, daily_stats_rollup_touched
from sleekbatch.models import BusinessEvent
from tests.conftest import requires_postgres

Kind = BusinessEvent.Kind
DAY1, DAY2, DAY3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)


def at(day: date, hh=12, mm=0, ss=0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=UTC)


def event(kind, occurred_at, product_type="hoodie", **fields):
    return BusinessEvent.objects.create(kind=kind, occurred_at=occurred_at, product_type=product_type, **fields)


def stats(day, product_type="hoodie"):
    return DailyStats.objects.get(day=day, product_type=product_type)


@pytest.fixture
def two_days_of_events(db):
    """Day 1: three orders submitted, one straddling midnight; day 2: pooling, a confirm, a cancel with refunds."""
    event(Kind.ORDER_SUBMITTED, at(DAY1, 9), quantity=10)
    event(Kind.ORDER_SUBMITTED, at(DAY1, 10), quantity=30)
    event(Kind.ORDER_SUBMITTED, at(DAY1, 23, 59, 59), quantity=200)  # pooled after midnight
    event(Kind.ORDER_SUBMITTED, at(DAY1, 11), product_type="tee", quantity=5)
    event(Kind.BATCH_OPENED, at(DAY1, 9), quantity=100)
    event(Kind.ORDER_POOLED, at(DAY1, 9), quantity=10, amount=Decimal("115.00"))
    event(Kind.ORDER_POOLED, at(DAY1, 10), quantity=30, amount=Decimal("345.00"))
    event(Kind.ORDER_REJECTED, at(DAY1, 11), product_type="tee", quantity=5, reason="no offer")
    event(Kind.ORDER_DIRECT, at(DAY2, 0, 0, 1), quantity=200, amount=Decimal("2000.00"))
    event(
        Kind.BATCH_CONFIRMED,
        at(DAY2, 8),
        quantity=80,
        amount=Decimal("920.00"),
        fill_percent=Decimal("80.00"),
        batch_opened_at=at(DAY2, 8) - timedelta(hours=36),
    )
    event(
        Kind.BATCH_APPROVED,
        at(DAY2, 9),
        quantity=60,
        amount=Decimal("690.00"),
        fill_percent=Decimal("60.00"),
        batch_opened_at=at(DAY2, 9) - timedelta(hours=72, minutes=30),
    )
    event(Kind.BATCH_SENT_TO_REVIEW, at(DAY2, 7), quantity=60, fill_percent=Decimal("60.00"))
    event(Kind.BATCH_CANCELLED, at(DAY2, 10), quantity=40, fill_percent=Decimal("40.00"))
    event(Kind.REFUND_ISSUED, at(DAY2, 10), amount=Decimal("115.00"))
    event(Kind.REFUND_ISSUED, at(DAY2, 10), amount=Decimal("345.00"))
    # not rolled up
    event(Kind.BATCH_NEARING_TARGET, at(DAY2, 6), quantity=65)
    event(Kind.JOB_FAILED, at(DAY2, 6), product_type="", task_name="orders.drain_submitted", reason="boom")


def test_a_day_counts_what_happened_on_it_across_midnight(two_days_of_events):
    # when
    result = daily_stats_rollup(first_day=DAY1, last_day=DAY3)

    # then
    assert (result.days, result.rows) == (3, 3)
    day1 = stats(DAY1)
    assert (day1.orders_submitted, day1.units_submitted) == (3, 240)
    assert (day1.orders_pooled, day1.orders_direct, day1.orders_rejected) == (2, 0, 0)
    assert day1.batches_opened == 1
    assert day1.revenue == Decimal("0.00")
    assert day1.avg_fill_percent_at_close is None
    tee = stats(DAY1, "tee")
    assert (tee.orders_submitted, tee.orders_rejected, tee.units_submitted) == (1, 1, 5)
    day2 = stats(DAY2)
    assert day2.orders_submitted == 0
    assert day2.orders_direct == 1  # submitted at 23:59:59, decided at 00:00:01
    assert day2.revenue == Decimal("3610.00")  # the direct order and both confirmed batches
    assert (day2.batches_confirmed, day2.batches_sent_to_review, day2.batches_cancelled) == (2, 1, 1)
    assert (day2.refunds, day2.refunded_amount) == (2, Decimal("460.00"))
    assert day2.avg_fill_percent_at_close == Decimal("60.00")  # (80 + 60 + 40) / 3
    assert day2.avg_hours_to_confirm == Decimal("54.25")  # (36 + 72.5) / 2
    # a day without activity has no row
    assert not DailyStats.objects.filter(day=DAY3).exists()


def test_a_rerun_gives_the_same_rows(two_days_of_events):
    daily_stats_rollup(first_day=DAY1, last_day=DAY2)
    first = list(DailyStats.objects.values_list("day", "product_type", "orders_submitted", "revenue", "refunds"))

    daily_stats_rollup(first_day=DAY1, last_day=DAY2, chunk_days=1)

    assert (
        list(DailyStats.objects.values_list("day", "product_type", "orders_submitted", "revenue", "refunds")) == first
    )
    assert DailyStats.objects.count() == 3


def test_a_rerun_picks_up_events_that_arrived_since(two_days_of_events):
    daily_stats_rollup(first_day=DAY1, last_day=DAY2)
    event(Kind.ORDER_SUBMITTED, at(DAY1, 13), quantity=7)

    daily_stats_rollup(first_day=DAY1, last_day=DAY1)

    assert (stats(DAY1).orders_submitted, stats(DAY1).units_submitted) == (4, 247)


def test_days_follow_the_analytics_time_zone(two_days_of_events, settings):
    # given: New York is UTC-5 in November, so 23:59:59 and 00:00:01 UTC are both on the evening of day 1
    settings.ANALYTICS_TIME_ZONE = "America/New_York"

    daily_stats_rollup(first_day=DAY1, last_day=DAY2)

    day1 = stats(DAY1)
    assert day1.orders_submitted == 3
    assert day1.orders_direct == 1


@pytest.mark.django_db
def test_the_incremental_run_rolls_up_only_the_days_touched_since_the_last_one():
    # given: a first incremental run over day 1
    event(Kind.ORDER_SUBMITTED, at(DAY1), quantity=10, recorded_at=at(DAY1, 13))
    first = daily_stats_rollup_touched(now=at(DAY1, 14))
    assert (first.first_day, first.last_day) == (DAY1, DAY1)
    # and an event recorded later for day 3 (day 1's row is then changed by hand, to see it is left alone)
    event(Kind.ORDER_SUBMITTED, at(DAY3), quantity=3, recorded_at=at(DAY3, 13))
    DailyStats.objects.filter(day=DAY1).update(orders_submitted=99)

    # when
    second = daily_stats_rollup_touched(now=at(DAY3, 14))

    # then
    assert (second.first_day, second.last_day, second.days) == (DAY3, DAY3, 1)
    assert stats(DAY3).orders_submitted == 1
    assert stats(DAY1).orders_submitted == 99
    assert RollupRun.objects.filter(mode=RollupRun.Mode.INCREMENTAL).count() == 2


@pytest.mark.django_db
def test_the_incremental_run_looks_back_over_transactions_still_open_at_its_last_start(settings):
    settings.ROLLUP_RECORDED_LAG = timedelta(minutes=10)
    daily_stats_rollup_touched(now=at(DAY2, 12))
    # written by a transaction that began 5 minutes before that run and committed after it
    event(Kind.ORDER_SUBMITTED, at(DAY1, 23), quantity=4, recorded_at=at(DAY2, 11, 55))

    result = daily_stats_rollup_touched(now=at(DAY2, 13))

    assert (result.first_day, result.last_day) == (DAY1, DAY1)
    assert stats(DAY1).units_submitted == 4


def test_the_command_prints_a_progress_line_per_chunk(two_days_of_events):
    out = StringIO()
    call_command("rollup_daily", "--from", "2026-11-01", "--to", "2026-11-03", "--chunk-days", "2", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("rollup: 2026-11-01 … 2026-11-02: 3 rows in ")
    assert lines[1].startswith("rollup: 2026-11-03 … 2026-11-03: 0 rows in ")
    assert lines[2].startswith("rollup: 3 days (2026-11-01 … 2026-11-03), 3 rows in ")
    assert stats(DAY2).revenue == Decimal("3610.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "2026-11-31"], "not a date"),
        (["--from", "2026-11-03", "--to", "2026-11-01"], "--to is before --from"),
        (["--to", "2026-11-01"], "--to needs --from"),
        (["--from", "2026-11-01", "--chunk-days", "0"], "--chunk-days"),
    ],
)
def test_the_command_refuses_bad_days(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("rollup_daily", *args, stdout=StringIO())
    assert not DailyStats.objects.exists()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_do_not_double_anything(two_days_of_events):
    # given: the two runs start together
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            daily_stats_rollup(first_day=DAY1, last_day=DAY2)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert DailyStats.objects.count() == 3
    assert stats(DAY2).revenue == Decimal("3610.00")
    assert stats(DAY1).orders_submitted == 3


# --- the API -------------------------------------------------------------------------------------

URL = "/api/analytics/daily/"


def test_ops_read_the_rows_of_a_range(two_days_of_events, olivia, api_client_for):
    daily_stats_rollup(first_day=DAY1, last_day=DAY2)

    response = api_client_for(olivia).get(URL, {"from": "2026-11-01", "to": "2026-11-03"})

    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"], body["product_type"]) == ("2026-11-01", "2026-11-03", None)
    assert [(row["day"], row["product_type"]) for row in body["rows"]] == [
        ("2026-11-01", "hoodie"),
        ("2026-11-01", "tee"),
        ("2026-11-02", "hoodie"),
    ]
    assert body["rows"][2]["revenue"] == "3610.00"
    assert body["rows"][2]["avg_hours_to_confirm"] == "54.25"


def test_ops_filter_by_product_type(two_days_of_events, olivia, api_client_for):
    daily_stats_rollup(first_day=DAY1, last_day=DAY2)

    response = api_client_for(olivia).get(URL, {"from": "2026-11-01", "to": "2026-11-02", "product_type": "tee"})

    assert [(row["day"], row["orders_rejected"]) for row in response.json()["rows"]] == [("2026-11-01", 1)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, field",
    [
        ({"from": "2026-11-31"}, "from"),
        ({"to": "tomorrow"}, "to"),
        ({"from": "2026-11-03", "to": "2026-11-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-11-01"}, "from"),
        ({"product_type": "not a slug!"}, "product_type"),
    ],
)
def test_a_bad_range_is_a_400_with_field_errors(olivia, api_client_for, params, field):
    response = api_client_for(olivia).get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.django_db
def test_only_operations_staff_read_daily_stats(alice, sam, api_client_for, anon_client):
    assert api_client_for(alice).get(URL).status_code == 403
    assert api_client_for(sam).get(URL).status_code == 403
    assert anon_client.get(URL).status_code == 401


def test_the_command_shows_the_rows_it_rolled_up(two_days_of_events):
    out = StringIO()
    call_command("rollup_daily", "--from", "2026-11-01", "--to", "2026-11-02", "--show", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[-4].split()[:3] == ["day", "product", "orders"]
    assert lines[-1].split()[:4] == ["2026-11-02", "hoodie", "0", "0"]
    assert "3610.00" in lines[-1]
