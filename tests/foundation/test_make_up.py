"""`make up`: the services are checked before anything is migrated or seeded."""

import os
import socket
import sqlite3
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def test_make_up_with_an_unreachable_broker_fails_in_one_line_before_migrating(tmp_path):
    # given: a broker URL naming a closed port, and a state folder of its own
    broker = f"redis://127.0.0.1:{closed_port()}/0"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "MAKEFLAGS", "MAKELEVEL")}
    env.update(CELERY_BROKER_URL=broker, SLEEKBATCH_VAR_DIR=str(tmp_path / "var"))

    # when
    result = subprocess.run(
        ["make", "--no-print-directory", "up"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    # then: one line saying which broker and why, from the check that runs first
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if not line.startswith("make:")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"CommandError: broker unreachable ({broker}): ")
    assert "Connection refused" in lines[0]
    # and: nothing migrated or seeded (the database check may open an empty SQLite file, no more)
    database = tmp_path / "var" / "sleekbatch.sqlite3"
    if database.exists():
        with sqlite3.connect(database) as connection:
            assert connection.execute("SELECT name FROM sqlite_master").fetchall() == []
    assert "migrate" not in result.stdout
