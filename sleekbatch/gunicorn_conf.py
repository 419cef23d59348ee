# gunicorn settings, from the environment so the Procfile line is the same everywhere.
# Sizing is measured with `make bench` (API phase: wrk POSTing single orders on loopback);
# see the comments below for what each choice traded off.
import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS", "2"))
worker_class = os.environ.get("WEB_WORKER_CLASS", "sync")
threads = int(os.environ.get("WEB_THREADS", "1"))
# An access line per request costs ~5% at 1,000 requests/s; opt in when needed.
accesslog = "-" if os.environ.get("WEB_ACCESS_LOG") else None
timeout = 30
# Several gunicorns on one host (make up, the demo, the bench, tests) would all claim
# the same ~/.gunicorn/gunicorn.ctl; nothing here uses the control interface.
control_socket_disable = True
