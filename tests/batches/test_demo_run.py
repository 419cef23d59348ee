"""`make demo` end to end, smaller: real gunicorn and Celery worker processes on the embedded default.

The demo's orders are shaped so that every run shows every outcome; this runs it and reads its summary.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batches.management.commands.demo import OUTCOMES
from tests.process_helpers import processes_using

ROOT = Path(__file__).resolve().parents[2]
# As the Makefile's DEMO_ENV: the embedded default, with the per-buyer limits raised.
DEMO_ENV = {"SLEEKBATCH_THROTTLE_ORDERS_SUBMIT": "100000/min", "SLEEKBATCH_THROTTLE_USER": "100000/min"}


@pytest.fixture
def demo_env(tmp_path, settings):
    if settings.IS_POSTGRES:
        pytest.skip("the demo runs on the embedded default only (the SQLite run of the suite covers it)")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")}
    env.update(DEMO_ENV, SLEEKBATCH_VAR_DIR=str(tmp_path / "var"))
    # What `make demo` runs first, in one process (a Django start-up costs seconds on a busy machine).
    setup = "import django; django.setup(); from django.core.management import call_command as c; "
    setup += "c('migrate', interactive=False, verbosity=0); c('seed_demo')"
    subprocess.run([sys.executable, "-c", setup], cwd=ROOT, env=env, check=True, capture_output=True)
    return env


def test_the_demo_shows_every_outcome_and_stops_its_processes_promptly(demo_env, tmp_path):
    # given: a migrated, seeded state folder of its own
    var_dir = tmp_path / "var"

    # when: the demo runs, smaller and with short windows
    demo = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--orders", "100", "--window", "6", "--timeout", "90"],
        cwd=ROOT,
        env=demo_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines, summary_at = [], None
    for line in demo.stdout:
        lines.append(line.rstrip("\n"))
        if "Every outcome of the run:" in line:
            summary_at = time.monotonic()
    demo.wait(timeout=30)
    stopped_after = time.monotonic() - summary_at if summary_at else None
    output = "\n".join(lines)

    # then: every outcome at least once, and where to look at them
    assert demo.returncode == 0, output
    for label in OUTCOMES:
        match = re.search(rf"^  {re.escape(label)}\s+(\d+)$", output, re.MULTILINE)
        assert match and int(match[1]) >= 1, f"{label!r} missing from the summary:\n{output}"
    assert "rejected: No supplier of 'tee' runs 5 styles in a batch." in output
    for where in ("make up", "/admin/", "/api/docs/", "/ops/dashboard/", "ops / ops", "buyer1 / buyer1"):
        assert where in output
    # and: it ends within a few seconds of its summary (its worker used to hold it ~30 s), its web
    # server and worker gone with it
    assert stopped_after < 8, f"the demo took {stopped_after:.1f}s to end after its summary"
    assert processes_using(var_dir) == []
