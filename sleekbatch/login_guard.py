"""Admin login lockout: after repeated wrong passwords, per username and per client address.

A small guard on the shared cache rather than django-axes: the admin login form is the
only password form here, the counters live where the API throttles live (Redis in
production, so every web process sees the same count), and nothing needs its own tables,
middleware or authentication backend. ``LOGIN_FAILURE_LIMIT_PER_USERNAME`` wrong
passwords for one username, or ``LOGIN_FAILURE_LIMIT_PER_ADDRESS`` from one address,
within ``LOGIN_LOCKOUT_SECONDS`` of the first lock that username or address until then;
while locked, no password is checked (a right one included), so guessing learns nothing.
Each failure is logged with the username and address.
"""

import logging

import redis
from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from sleekbatch.flags import shared_redis_client
from sleekbatch.throttling import count_hits, read_counts

logger = logging.getLogger("sleekbatch.security")

KEY_PREFIX = "sleekbatch:login-failures"


def client_address(request) -> str:
    """REMOTE_ADDR, or the address NUM_PROXIES proxies back (the API throttles' rule)."""
    return BaseThrottle().get_ident(request)


def _keys(username: str, address: str) -> list[str]:
    # A count lives LOGIN_LOCKOUT_SECONDS from the first failure (count_hits sets the expiry once).
    return [f"{KEY_PREFIX}:user:{username.strip().lower()}", f"{KEY_PREFIX}:addr:{address}"]


def _limits() -> list[int]:
    return [settings.LOGIN_FAILURE_LIMIT_PER_USERNAME, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS]


def _locked(keys: list[str]) -> tuple[str, int] | None:
    for what, (count, seconds_left), limit in zip(("username", "address"), read_counts(keys), _limits(), strict=True):
        if count >= limit:
            return what, max(1, round(seconds_left))
    return None


def login_locked(username: str, address: str) -> tuple[str, int] | None:
    """What is locked ("username" or "address") and for how many more seconds, or None."""
    return _locked(_keys(username, address))


def login_failed(username: str, address: str) -> tuple[str, int] | None:
    """Count a wrong password; what it locked (and for how long), if anything."""
    keys = _keys(username, address)
    counts = count_hits([(key, settings.LOGIN_LOCKOUT_SECONDS) for key in keys])
    logger.warning(
        "admin.login_failed",
        extra={"username": username[:150], "client_address": address, "failures_for_username": counts[0]},
    )
    return _locked(keys)


def login_succeeded(username: str) -> None:
    """A right password clears the username's failures (not the address's: one good account
    must not reset a guesser's allowance for the others)."""
    key = _keys(username, "-")[0]
    client = shared_redis_client()
    if client is not None:
        client.delete(key)
    else:
        cache.delete(key)


def _unless_cache_down(guard, *args):
    """The guard's answer, or None while the shared cache is down: staff can still log in (with
    passwords checked as ever) during a Redis outage, which is when they most need the admin."""
    try:
        return guard(*args)
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        logger.warning("admin.login_guard_unavailable")
        return None


class LockoutAdminAuthenticationForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "locked_out": "Too many failed logins for this %(what)s. Try again in %(minutes)d minutes.",
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request)
        locked = _unless_cache_down(login_locked, username, address)
        if locked:
            logger.warning("admin.login_locked_out", extra={"username": username[:150], "client_address": address})
            raise self._locked_out(*locked)
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if self.user_cache is None:  # a wrong password, not an inactive or non-staff account
                locked = _unless_cache_down(login_failed, username, address)
                if locked:
                    raise self._locked_out(*locked) from None
            raise
        _unless_cache_down(login_succeeded, username)
        return cleaned

    def _locked_out(self, what: str, seconds: int) -> forms.ValidationError:
        minutes = max(1, -(-seconds // 60))
        return forms.ValidationError(
            self.error_messages["locked_out"], code="locked_out", params={"what": what, "minutes": minutes}
        )
