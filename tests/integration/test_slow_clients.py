"""Slow clients (headers sent a little at a time, then nothing) against gunicorn, bare and behind
deploy/nginx.conf, the buffering proxy of the production stack."""

import http.client
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from bench.load import Gunicorn, free_port
from tests.integration.workers import database_url_for_test_db

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("nginx") is None, reason="needs nginx (apt-get install nginx-light; .ci/run does)"),
]


def stall(port: int, count: int) -> list[socket.socket]:
    """``count`` connections that send half a request's headers and then nothing."""
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /api/health/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        sockets.append(sock)
    time.sleep(0.5)  # let the server pick them up
    return sockets


def health_within(port: int, seconds: float) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=seconds)
    try:
        conn.request("GET", "/api/health/")
        return conn.getresponse().status == 200
    except TimeoutError:
        return False
    finally:
        conn.close()


class Nginx:
    def __init__(self, upstream_port: int, workdir: Path):
        self.port = free_port()
        conf = (ROOT / "deploy" / "nginx.conf").read_text()
        conf = conf.replace("server web:8000;", f"server 127.0.0.1:{upstream_port};")
        conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{self.port};")
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "nginx.conf").write_text(conf)
        self.command = [
            "nginx",
            "-p",
            str(workdir),
            "-c",
            str(workdir / "nginx.conf"),
            "-g",
            f"daemon off; pid {workdir / 'nginx.pid'}; user root;",
        ]

    def __enter__(self):
        self.proc = subprocess.Popen(self.command, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError(f"nginx did not listen: {self.proc.stderr.read().decode()}")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def web(tmp_path):
    env = {"DATABASE_URL": database_url_for_test_db(), "WEB_WORKERS": str(WORKERS)}
    with Gunicorn(tmp_path / "gunicorn.log", env) as server:
        yield server


def test_bare_sync_workers_are_held_by_as_many_slow_clients(web):
    held = stall(web.port, WORKERS)
    try:
        assert not health_within(web.port, 3)
    finally:
        for sock in held:
            sock.close()


def test_behind_the_buffering_proxy_slow_clients_hold_nothing(web, tmp_path):
    with Nginx(web.port, tmp_path / "nginx") as proxy:
        held = stall(proxy.port, WORKERS * 10)
        try:
            started = time.monotonic()
            assert health_within(proxy.port, 3)
            assert time.monotonic() - started < 1.5
            # and the proxy drops them once its header timeout (5 s) has passed
            held[0].settimeout(8)
            answer = held[0].recv(1024)
            assert answer == b"" or answer.startswith(b"HTTP/1.1 408")
        finally:
            for sock in held:
                sock.close()
