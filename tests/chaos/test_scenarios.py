"""Faults injected into a real stack (gunicorn, two workers, beat; PostgreSQL and Redis of the suite's
own) under steady order traffic; after each scenario every invariant of issue #8 is checked and a
summary printed. See docs/reliability.md for what each fault exercises.
"""

import os
import shutil
import time

import pytest

from sleekbatch.flags import KEY_PREFIX
from tests.chaos.checks import Fault, evaluate, wait_until_nothing_submitted
from tests.chaos.client import SteadyClient
from tests.chaos.conftest import BATCH_WINDOW_SECONDS
from tests.chaos.stack import RabbitVhost, progress, wait_for

RATE = 30  # requests a second: a steady trickle that a loaded 2-core CI machine still serves
# How long a scenario waits for the last submitted order to be pooled once the load stops.
SETTLE_TIMEOUT = 45


def _settle_and_check(stack, scenario, client, faults, started, **extra):
    answers = client.stop()
    retried = client.retry_bulks()
    settled = wait_until_nothing_submitted(stack.db, timeout=SETTLE_TIMEOUT)
    outcome = evaluate(
        stack.db,
        scenario,
        client.answers,
        faults,
        started=started,
        mail_dir=stack.mail_dir,
        **{"bulk retries by the client": retried, "settled after load stopped (s)": round(settled, 1), **extra},
    )
    assert answers, "the client sent nothing"
    assert not outcome.broken, f"{scenario}: broken invariants {outcome.broken}"
    return outcome


def _count(stack, query: str) -> int:
    return stack.db.execute(query).fetchone()[0]


def _submitted(stack) -> int:
    return stack.db.execute("SELECT count(*) FROM orders_order WHERE workflow_status = 'submitted'").fetchone()[0]


def _pooled(stack) -> int:
    return stack.db.execute("SELECT count(*) FROM orders_order WHERE pooled_at IS NOT NULL").fetchone()[0]


def _kill_mid_drain(stack, client, kill) -> bool:
    """Queue a backlog, wait until a drain is pooling it, then kill; True if orders were still waiting."""
    client.send_bulk(1000)
    before = _pooled(stack)
    wait_for(lambda: _pooled(stack) > before + 50, timeout=20, what="a drain under way", interval=0.05)
    kill()
    return _submitted(stack) > 0


def test_a_workers_killed_mid_drain(stack):
    processes = stack.start("a-kill-workers")
    started = time.time()
    client = SteadyClient(processes.web_port, stack.tokens, rate=RATE).start()
    faults, mid_drain = [], 0
    for round_ in range(3):
        fault = Fault(f"kill -9 worker child #{round_ + 1}", time.time())
        mid_drain += _kill_mid_drain(stack, client, lambda: processes.kill_worker_children("w0"))
        fault.cleared = time.time()
        faults.append(fault)
        progress(f"a: killed the children of w0 (round {round_ + 1})")
        time.sleep(2)
    fault = Fault("kill -9 whole worker w1, restarted after 3s", time.time())
    mid_drain += _kill_mid_drain(stack, client, lambda: processes.kill_worker("w1"))
    time.sleep(3)
    processes.start_worker("w1")
    processes.wait_workers_ready()
    fault.cleared = time.time()
    faults.append(fault)
    progress("a: killed w1 whole and restarted it")
    time.sleep(5)
    _settle_and_check(stack, "a: kill -9 workers mid-drain", client, faults, started, **{"kills mid-drain": mid_drain})
    assert mid_drain >= 3, "the kills must land while orders are being pooled"


def test_b_redis_stopped_for_20s(stack):
    processes = stack.start("b-redis-down")
    started = time.time()
    client = SteadyClient(processes.web_port, stack.tokens, rate=RATE).start()
    time.sleep(5)
    fault = Fault("Redis (broker, cache, trigger) stopped 20s", time.time())
    stack.redis.stop()
    time.sleep(20)
    stack.redis.start()
    fault.cleared = time.time()
    progress("b: Redis back")
    time.sleep(10)
    outcome = _settle_and_check(stack, "b: Redis stopped 20s", client, [fault], started)
    # a stored order is accepted whatever the trigger's fate: nothing for a client to see here
    assert outcome.figures["client-visible errors"] == 0


def test_c_postgresql_stopped_for_12s(stack):
    processes = stack.start("c-postgres-down")
    started = time.time()
    client = SteadyClient(processes.web_port, stack.tokens, rate=RATE).start()
    time.sleep(5)
    fault = Fault("PostgreSQL stopped 12s", time.time())
    stack.pg.stop("fast")
    time.sleep(12)
    stack.pg.start()
    stack.reconnect()  # the suite's own connection went down with the server
    fault.cleared = time.time()
    progress("c: PostgreSQL back")
    time.sleep(10)
    outcome = _settle_and_check(stack, "c: PostgreSQL stopped 12s", client, [fault], started)
    statuses = outcome.figures["answers by status"]
    assert set(statuses) <= {"200", "202", "503"}, statuses


@pytest.mark.parametrize("beats", [0, 1], ids=["without beat", "with beat"])
def test_d_lost_trigger(stack, beats):
    # given: a drain was requested and its message lost (the flag is set, no message queued)
    from batches.pooling.tasks import DRAIN_REQUEST

    processes = stack.start(f"d-lost-trigger-{beats}-beat", beats=beats)
    started = time.time()
    fault = Fault(f"lost trigger ({'no beat' if not beats else 'beat running'})", time.time())
    stack.redis.client(1).set(DRAIN_REQUEST.key, 1, ex=DRAIN_REQUEST.ttl_seconds)
    fault.cleared = fault.started  # nothing is restored: the stack has to notice by itself
    assert DRAIN_REQUEST.key.startswith(KEY_PREFIX)

    # when: orders arrive for a few seconds, then nothing more
    client = SteadyClient(processes.web_port, stack.tokens, rate=RATE).start()
    time.sleep(4)

    # then
    _settle_and_check(stack, f"d: lost trigger, {beats} beat", client, [fault], started)


def test_e_two_beats(stack):
    processes = stack.start("e-two-beats", beats=2)
    started = time.time()
    fault = Fault("two beats at once, sweeps every 5s", time.time())
    client = SteadyClient(processes.web_port, stack.tokens, rate=RATE).start()
    time.sleep(20)
    client.stop()
    # the last batches' windows close: both beats' sweeps review or cancel them (with refunds)
    wait_for(
        lambda: _count(stack, "SELECT count(*) FROM batches_productionbatch WHERE batch_status = 'open'") == 0,
        timeout=BATCH_WINDOW_SECONDS + 20,
        what="every batch decided",
        interval=1,
    )
    fault.cleared = time.time()
    outcome = _settle_and_check(stack, "e: two beats", client, [fault], started)
    swept = _count(
        stack, "SELECT count(*) FROM batches_productionbatch WHERE batch_status IN ('admin_review', 'cancelled')"
    )
    assert swept > 0, f"no batch was left to the sweeps: {outcome.figures['batches, by status']}"


@pytest.mark.skipif(
    not shutil.which("rabbitmqctl") and os.environ.get("SLEEKBATCH_REQUIRE_SERVICES") != "1",
    reason="RabbitMQ is not installed here (.ci/run installs it; SLEEKBATCH_REQUIRE_SERVICES=1 makes this fail)",
)
def test_f_rabbitmq(stack):
    with RabbitVhost() as vhost:
        processes = stack.start("f-rabbitmq", broker_url=vhost.url())
        started = time.time()
        client = SteadyClient(processes.web_port, stack.tokens, rate=RATE).start()
        faults, mid_drain = [], 0
        for round_ in range(2):
            fault = Fault(f"kill -9 worker child #{round_ + 1} (RabbitMQ)", time.time())
            mid_drain += _kill_mid_drain(stack, client, lambda: processes.kill_worker_children("w0"))
            fault.cleared = time.time()
            faults.append(fault)
            time.sleep(3)
        time.sleep(5)
        _settle_and_check(
            stack, f"f: RabbitMQ (vhost {vhost.name})", client, faults, started, **{"kills mid-drain": mid_drain}
        )
        stack.stop()
