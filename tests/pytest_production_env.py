"""A pytest plugin loaded before the settings (pyproject: ``-p tests.pytest_production_env``).

Runs on PostgreSQL are the production profile, which refuses to start without a real
SECRET_KEY; tests get a fresh random one (inherited by the servers and workers they start)...
"""

import base64
import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
# ... nor without the key that encrypts supplier data at rest (a Fernet key: 32 url-safe base64 bytes).
os.environ.setdefault("SLEEKBATCH_FIELD_KEYS", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
# ... and over plain HTTP: the test client and the servers tests start speak HTTP, not HTTPS.
os.environ.setdefault("SLEEKBATCH_HTTPS", "0")
