"""`make up`: the processes of the Procfile, one "ready" line once they answer, Ctrl-C stops them.

Usage: python scripts/up.py [--timeout SECONDS]   (from the repository root, as make runs it)

Each process runs in a session of its own, its output prefixed with its name. The supervisor,
not the terminal, stops them: Ctrl-C reached every process of the foreground group, a Celery
worker's prefork children included, and a child killed while it held the pool's queue lock left
the worker hanging on exit (see sleekbatch.processes.stop_process_groups). Here each leader gets
one SIGTERM (a warm shutdown) and the supervisor waits for it.

"Ready" means each process answers in its own way:
- web: GET /api/health/ answers 200 (it checks the database, the broker and the cache);
- worker: a Celery control ping from this host's worker comes back over the broker;
- beat: it has printed "beat: Starting...". Beat has no control channel to ping, and that line
  comes after its ``beat_init`` hook checked the database and the broker (it exits with one line
  when either is missing), so from then on it runs its schedule;
- flower: its port answers HTTP (a 401 asking for the login is an answer).
"""

import argparse
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sleekbatch.settings")

BEAT_STARTED = "beat: Starting..."


def procfile_entries(path: Path) -> dict[str, str]:
    entries = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


class Process:
    def __init__(self, name: str, command: str, width: int):
        self.name = name
        self.prefix = f"{name:<{width}} | "
        self.seen_beat_started = threading.Event()
        self.popen = subprocess.Popen(
            shlex.split(command),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # out of the terminal's group: only the supervisor signals it
            text=True,
            errors="replace",
        )
        threading.Thread(target=self._relay, name=f"relay-{name}", daemon=True).start()

    def _relay(self):
        for line in self.popen.stdout:
            if BEAT_STARTED in line:
                self.seen_beat_started.set()
            sys.stdout.write(self.prefix + line)
            sys.stdout.flush()


def http_answers(url: str, *, want_ok: bool) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except urllib.error.HTTPError:
        return not want_ok  # any HTTP answer is one, when not asked for 200
    except OSError:
        return False


def worker_answers() -> bool:
    from sleekbatch.celery import app

    replies = app.control.ping(timeout=1.0) or []
    host = socket.gethostname()
    return any(name.split("@", 1)[-1] == host for reply in replies for name in reply)


def web_url() -> str:
    return f"http://{os.environ.get('WEB_BIND', '127.0.0.1:8000')}"


def flower_url() -> str:
    return f"http://{os.environ.get('FLOWER_ADDRESS', '127.0.0.1')}:{os.environ.get('FLOWER_PORT', '5555')}"


def readiness_checks(names) -> dict:
    checks = {
        "web": lambda processes: http_answers(f"{web_url()}/api/health/", want_ok=True),
        "worker": lambda processes: worker_answers(),
        "beat": lambda processes: processes["beat"].seen_beat_started.is_set(),
        "flower": lambda processes: http_answers(f"{flower_url()}/", want_ok=False),
    }
    return {name: checks[name] for name in names if name in checks}


def ready_line(names) -> str:
    web = web_url()
    parts = [f"web {web}/ (admin {web}/admin/ as ops / ops, dashboard {web}/ops/dashboard/, API docs {web}/api/docs/)"]
    parts += [name for name in ("worker", "beat") if name in names]
    if "flower" in names:
        parts.append(f"Flower {flower_url()}/ ({os.environ.get('FLOWER_BASIC_AUTH', '')})")
    logins = "logins: ops, buyer1..3, dhaka/porto/izmir, password = username"
    return f"sleekbatch ready: {', '.join(parts)}; {logins}. Ctrl-C stops them."


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120, help="give up when not ready after this many seconds")
    parser.add_argument("--procfile", type=Path, default=ROOT / "Procfile")
    options = parser.parse_args()

    import django

    django.setup()
    from sleekbatch.processes import stop_process_groups

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *args: stop.set())

    entries = procfile_entries(options.procfile)
    width = max(len(name) for name in entries)
    processes = {name: Process(name, command, width) for name, command in entries.items()}
    checks = readiness_checks(processes)
    waiting = set(checks)
    deadline = time.monotonic() + options.timeout
    status = 0
    try:
        while not stop.is_set():
            exited = [p for p in processes.values() if p.popen.poll() is not None]
            if exited:
                first = exited[0]
                print(f"sleekbatch: {first.name} exited with status {first.popen.returncode}; stopping the others")
                status = 1
                break
            for name in sorted(waiting):
                if checks[name](processes):
                    waiting.discard(name)
                    if not waiting:
                        print(ready_line(processes))
            if waiting and time.monotonic() > deadline:
                print(f"sleekbatch: not ready after {options.timeout:.0f}s: {', '.join(sorted(waiting))}")
                status = 1
                break
            stop.wait(0.5)
    finally:
        started = time.monotonic()
        print(f"sleekbatch: stopping {', '.join(processes)}")
        stop_process_groups([p.popen for p in processes.values()], timeout=20)
        print(f"sleekbatch: stopped in {time.monotonic() - started:.1f}s")
    return status


if __name__ == "__main__":
    sys.exit(main())
