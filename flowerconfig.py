# Read by `celery flower` from the working directory (the Procfile's and compose's flower).
import os

address = os.environ.get("FLOWER_ADDRESS", "127.0.0.1")
port = int(os.environ.get("FLOWER_PORT", "5555"))

# Flower shows task arguments and can revoke tasks and shut workers down: never without a login.
_credentials = os.environ.get("FLOWER_BASIC_AUTH", "").strip()
if ":" not in _credentials or _credentials.startswith(":") or _credentials.endswith(":"):
    raise SystemExit("sleekbatch: set FLOWER_BASIC_AUTH=user:password to start Flower (it has no login otherwise)")
basic_auth = [_credentials]
