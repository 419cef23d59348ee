"""Model fields encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256) under rotating keys.

Keys come from ``SLEEKBATCH_FIELD_KEYS`` (settings.FIELD_ENCRYPTION_KEYS, newest first): the
newest encrypts, any of them decrypts, and ``manage.py rotate_field_keys`` re-encrypts every
row under the newest so that an old key can be dropped (README, "Encrypted supplier data").
A decrypted value's ``repr`` is masked, so tracebacks and error mail never print it.
"""

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django import forms
from django.conf import settings
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from sleekbatch.redaction import REDACTED


class FieldKeyError(RuntimeError):
    """A stored value that none of the configured keys decrypts."""


class SensitiveStr(str):
    """A decrypted value: a plain string to code, masked in ``repr`` (tracebacks, error mail, shells)."""

    __slots__ = ()

    def __repr__(self):
        return repr(REDACTED)


@functools.lru_cache(maxsize=4)
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    fernets = [Fernet(key.encode("ascii")) for key in keys]
    return MultiFernet(fernets), fernets[0]


def field_keys() -> tuple[MultiFernet, Fernet]:
    """(every configured key, the newest key)."""
    return _fernets(tuple(settings.FIELD_ENCRYPTION_KEYS))


def field_encrypt(plaintext: str) -> str:
    return field_keys()[0].encrypt(plaintext.encode("utf-8")).decode("ascii")


def field_decrypt(token: str, *, where: str = "a field") -> SensitiveStr:
    try:
        return SensitiveStr(field_keys()[0].decrypt(token.encode("ascii")).decode("utf-8"))
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise FieldKeyError(
            f"cannot decrypt {where}: none of the {len(settings.FIELD_ENCRYPTION_KEYS)} key(s) in "
            "SLEEKBATCH_FIELD_KEYS is the one it was written with (a key dropped before "
            "`manage.py rotate_field_keys` ran, or the wrong environment)"
        ) from exc


def field_token_is_current(token: str) -> bool:
    """Whether the newest key alone decrypts this token (rotation leaves it as it is)."""
    try:
        field_keys()[1].decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


class _SensitiveAttribute(DeferredAttribute):
    """Wraps whatever string is assigned (a form's, a serializer's) so its ``repr`` is masked too."""

    def __set__(self, instance, value):
        if isinstance(value, str) and not isinstance(value, SensitiveStr):
            value = SensitiveStr(value)
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token; the empty string stays empty (a blank is not a secret).

    ``audit_masked`` tells the audit trail to record that the value changed, never the value.
    Lookups other than ``isnull`` and the empty string mean nothing on ciphertext: do not filter on it.
    """

    audit_masked = True
    descriptor_class = _SensitiveAttribute

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return field_decrypt(value, where=f"{self.model._meta.label}.{self.name}")

    def to_python(self, value):
        if value is None or isinstance(value, SensitiveStr):
            return value
        return SensitiveStr(value)

    def formfield(self, **kwargs):
        # One line, not a text area; browsers neither suggest nor remember what was typed.
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "off", "class": "vTextField"}))
        return super().formfield(**kwargs)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return field_encrypt(str(value))
