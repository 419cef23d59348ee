# gunicorn settings, from the environment so the Procfile line is the same everywhere.
import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS", "2"))
# An access line per request costs ~5% at 1,000 requests/s; opt in when needed.
accesslog = "-" if os.environ.get("WEB_ACCESS_LOG") else None
timeout = 30
