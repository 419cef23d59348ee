"""CPU time and memory of process trees, read from /proc (Linux)."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (via /proc/<pid>/task/*/children)."""
    tree, stack = [], [pid]
    while stack:
        current = stack.pop()
        tree.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                stack.extend(int(child) for child in task.read_text().split())
    return tree


def rss_kib(pid: int) -> int:
    """Resident set size of one process in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kib(pid: int) -> int:
    """Proportional set size in KiB: shared pages split among the processes sharing them."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kib(pid: int) -> int:
    return sum(rss_kib(member) for member in process_tree(pid))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time one process has used (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pids: list[int]) -> float:
    return sum(cpu_seconds(member) for pid in pids for member in process_tree(pid))


def load_average() -> float | None:
    """The 1-minute load average: how busy the machine was besides the bench."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class RssSampler(threading.Thread):
    """Samples the summed RSS of each worker's process tree every ``interval`` s.

    RSS counts copy-on-write pages shared by a prefork parent and its children
    once per process, so the sum is an upper bound on real use; the PSS of all
    workers together (shared pages split) is sampled too, as what they really cost.
    """

    def __init__(self, pids: list[int], interval: float = 0.1):
        super().__init__(daemon=True)
        self.pids = pids
        self.interval = interval
        self.peak_per_worker_kib = 0
        self.peak_total_kib = 0
        self.peak_total_pss_kib = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def sample(self) -> None:
        per_worker = [tree_rss_kib(pid) for pid in self.pids]
        self.peak_per_worker_kib = max(self.peak_per_worker_kib, *per_worker, 0)
        self.peak_total_kib = max(self.peak_total_kib, sum(per_worker))
        pss = sum(pss_kib(member) for pid in self.pids for member in process_tree(pid))
        self.peak_total_pss_kib = max(self.peak_total_pss_kib, pss)
        self.samples += 1

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=2)
        self.sample()
