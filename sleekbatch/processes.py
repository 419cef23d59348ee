"""Child processes started in their own session (demo, bench, integration tests)."""

import os
import signal
import subprocess
import time


def stop_process_groups(procs: list[subprocess.Popen], timeout: float = 30) -> None:
    """SIGTERM each process group (a worker and its prefork children), SIGKILL what outlives the timeout."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
