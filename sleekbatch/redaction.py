"""What never leaves the process in clear: secrets in settings, URLs with credentials, query-string tokens.

One pattern of sensitive names serves the error-mail filter, the JSON log lines and
gunicorn's access lines, so they cannot disagree about what counts as a secret.
"""

import re
from urllib.parse import parse_qsl, urlencode

REDACTED = "********"

# Django's own list (API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE) plus every
# *_URL and DSN setting (DATABASE_URL, CELERY_BROKER_URL, REDIS_URL carry passwords),
# session and CSRF values, anything called a credential or a private thing, and the supplier
# data encrypted at rest (bank details, contact person: sleekbatch/encryption.py).
SENSITIVE_NAME = re.compile(
    r"API|AUTH|TOKEN|KEY|SECRET|PASS|PWD|SIGNATURE|COOKIE|SESSION|CSRF|CREDENTIAL|PRIVATE|_URL$|^URL$|DSN|IBAN|BANK"
    r"|BIC$|SWIFT|PHONE|CONTACT_NAME|ACCOUNT_HOLDER",
    flags=re.IGNORECASE,
)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]*)@", re.I)


def is_sensitive_name(name: str) -> bool:
    return bool(SENSITIVE_NAME.search(name))


def redact_url_credentials(text: str) -> str:
    """``postgres://app:s3cret@db/x`` → ``postgres://app:********@db/x``, anywhere in the text."""
    return _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", text)


def redact_query_string(query_string: str) -> str:
    """The query string with the value of every sensitive-looking parameter replaced."""
    if not query_string:
        return query_string
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return urlencode([(name, REDACTED if is_sensitive_name(name) else value) for name, value in pairs], safe="*")


def redact_path(full_path: str) -> str:
    """A request path with its query string redacted (``/api/orders/?token=…`` → ``?token=********``)."""
    path, sep, query = full_path.partition("?")
    return f"{path}{sep}{redact_query_string(query)}" if sep else path
