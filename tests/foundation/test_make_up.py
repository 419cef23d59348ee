"""`make up`: the services checked before anything is migrated; one ready line; Ctrl-C stops every process."""

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.process_helpers import processes_using

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_make_up_says_ready_once_everything_answers_and_ctrl_c_stops_it_all(tmp_path, settings):
    if settings.IS_POSTGRES:
        pytest.skip("make up runs here on the embedded default (the SQLite run of the suite covers it)")
    # given: make up on a state folder and ports of its own, in a session of its own as in a terminal
    var_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env = {k: v for k, v in env.items() if k not in ("MAKEFLAGS", "MAKELEVEL")}
    env.update(SLEEKBATCH_VAR_DIR=str(var_dir), WEB_BIND=f"127.0.0.1:{free_port()}", FLOWER_PORT=str(free_port()))
    make = subprocess.Popen(
        ["make", "--no-print-directory", "up"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    ready = threading.Event()

    def read():
        for line in make.stdout:
            output.append(line)
            if line.startswith("sleekbatch ready:"):
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # when: it says ready
        assert ready.wait(150), "".join(output[-40:])
        ready_lines = [line for line in output if line.startswith("sleekbatch ready:")]
        running = processes_using(var_dir)

        # and Ctrl-C reaches the terminal's foreground group
        interrupted = time.monotonic()
        os.killpg(make.pid, signal.SIGINT)
        make.wait(30)
        stopped_after = time.monotonic() - interrupted
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        for pid in processes_using(var_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    reader.join(5)

    # then: one ready line naming where to go and how to log in
    assert len(ready_lines) == 1
    assert env["WEB_BIND"] in ready_lines[0] and env["FLOWER_PORT"] in ready_lines[0]
    assert all(word in ready_lines[0] for word in ("/admin/", "/api/docs/", "ops / ops", "worker", "beat"))
    assert len(running) >= 4  # web, worker, beat and Flower (and their children) were up
    # and: every process stopped, within a few seconds
    assert processes_using(var_dir) == [], "".join(output[-30:])
    assert stopped_after < 15, f"make up took {stopped_after:.1f}s to stop"
