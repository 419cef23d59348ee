"""Staff mail about failed jobs: one per task name per interval, carrying how many were held back.

During an outage every try of every task fails alike (1,498 mails in one 50 s Redis outage
were seen); one mail per failing task name says as much. The window and the count live in
the shared cache, so all processes share them; when the cache is what failed, each process
keeps its own window (a handful of mails instead of one, never a flood). Every failure is
still recorded as a JobRun.
"""

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.mail import mail_admins

logger = logging.getLogger("sleekbatch.jobs")

KEY_PREFIX = "sleekbatch:job-failure-mail:"
# The held-back count outlives its window so that the next notice can report it.
HELD_COUNT_TTL_SECONDS = 7 * 24 * 3600


@dataclass
class _LocalWindow:
    opened_at: float
    held: int = 0


_local_windows: dict[str, _LocalWindow] = {}
_local_lock = threading.Lock()


def job_failure_notify(*, task_name: str, task_id: str, error: str) -> bool:
    """Mail staff that a job failed unless a mail for this task name went out within the interval.

    Returns whether a mail was sent. A held-back failure is counted, and the count is
    reported (and reset) by the next mail for the same task name.
    """
    interval = settings.JOB_FAILURE_MAIL_INTERVAL_SECONDS
    try:
        send, held = _shared_window(task_name, interval)
    except Exception:  # the cache (Redis) is down: fall back to this process's own window
        logger.warning("job_failure_mail.cache_unavailable", extra={"task_name": task_name}, exc_info=True)
        send, held = _local_window(task_name, interval)
    if not send:
        return False
    subject = f"job failed: {task_name}"
    body = f"task {task_id} failed\n\n{error}\n"
    if held:
        subject += f" (and {held} more since the last notice)"
        body += f"\n{held} more failures of {task_name} were held back since the last notice.\n"
    body += (
        f"\nAt most one notice per task name every {interval} s; every failure is listed under "
        "Analytics › Job runs in the admin.\n"
    )
    mail_admins(subject, body, fail_silently=True)
    return True


def _shared_window(task_name: str, interval: int) -> tuple[bool, int]:
    window_key = f"{KEY_PREFIX}{task_name}:window"
    held_key = f"{KEY_PREFIX}{task_name}:held"
    if cache.add(window_key, time.time(), timeout=interval):
        held = cache.get(held_key) or 0
        if held:
            cache.delete(held_key)
        return True, held
    cache.add(held_key, 0, timeout=HELD_COUNT_TTL_SECONDS)
    cache.incr(held_key)
    return False, 0


def _local_window(task_name: str, interval: int) -> tuple[bool, int]:
    now = time.monotonic()
    with _local_lock:
        window = _local_windows.get(task_name)
        if window is None or now - window.opened_at >= interval:
            held = window.held if window else 0
            _local_windows[task_name] = _LocalWindow(opened_at=now)
            return True, held
        window.held += 1
        return False, 0
