# gunicorn settings, from the environment so the Procfile line is the same everywhere.
#
# Sizing was measured with `make bench` (API phase: wrk, 8 connections, POSTing single
# orders over loopback, PostgreSQL and Redis on the same 2-core host). A request costs the
# web process ~3.5 ms of CPU whatever the worker model, so the choice is about keeping both
# cores busy while a worker waits on the database:
#   2 sync workers          ~140 req/s median   (a core idles during each DB round trip)
#   3 sync workers          ~250 req/s median, lowest p95
#   4 sync workers          ~170 req/s median   (more switching; PostgreSQL, Redis and wrk need the CPU too)
#   2-4 gthread × 2 threads ~170-270 req/s      (threads share one GIL; keep-alive saves little on loopback)
# (medians of 2-8 runs each on a machine shared with other jobs, load 3-6: noisy, but the
# ranking held.) Hence sync workers, one per core plus one. On a host that runs only the
# web tier, more (2 × cores + 1) may pay; set WEB_WORKERS and measure with `make bench`.
import os
import sys

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS") or (os.cpu_count() or 1) + 1)
worker_class = os.environ.get("WEB_WORKER_CLASS", "sync")
threads = int(os.environ.get("WEB_THREADS", "1"))
# An access line per request costs ~5% at 1,000 requests/s; opt in when needed.
accesslog = "-" if os.environ.get("WEB_ACCESS_LOG") else None
timeout = 30
# One JSON object per line, as Django's records (sleekbatch/gunicorn_logging.py).
logger_class = "sleekbatch.gunicorn_logging.JsonLogger"
# Several gunicorns on one host (make up, the demo, the bench, tests) would all claim
# the same ~/.gunicorn/gunicorn.ctl; nothing here uses the control interface.
control_socket_disable = True


def on_starting(server):
    """Load the settings in the master: a configuration error (an insecure SECRET_KEY) is one
    line and exit status 1, instead of every worker failing to boot with a traceback."""
    try:
        import sleekbatch  # noqa: F401 - loads the settings (sleekbatch/celery.py)
    except SystemExit as exc:
        print(exc, file=sys.stderr, flush=True)
        os._exit(1)
