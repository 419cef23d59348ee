"""Admin login: wrong passwords lock the username (and a guessing address) for a while, logged and said."""

import logging
import time

import pytest
from django.test import Client

from tests.factories import UserFactory

LOGIN = "/admin/login/"


@pytest.fixture
def ops_user(db, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_USERNAME = 3
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 10
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, for many logins
    user = UserFactory(username="ops", is_staff=True, is_superuser=True)
    user.set_password("right-password")
    user.save()
    return user


def log_in(client: Client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_the_right_password_after_the_limit_of_wrong_ones_is_refused(ops_user):
    client = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(3):
        assert not logged_in(log_in(client, "ops", "guess"))

    response = log_in(client, "ops", "right-password")

    assert not logged_in(response)
    assert "Too many failed logins for this username. Try again in 15 minutes." in response.content.decode()


def test_the_lockout_holds_from_another_address_and_another_case(ops_user):
    for _ in range(3):
        log_in(Client(REMOTE_ADDR="203.0.113.5"), "ops", "guess")

    assert not logged_in(log_in(Client(REMOTE_ADDR="198.51.100.7"), "OPS", "right-password"))


def test_fewer_wrong_passwords_than_the_limit_do_not_lock_and_a_login_clears_them(ops_user):
    client = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(2):
        log_in(client, "ops", "guess")

    assert logged_in(log_in(client, "ops", "right-password"))
    for _ in range(2):
        log_in(Client(REMOTE_ADDR="203.0.113.5"), "ops", "guess")
    assert logged_in(log_in(Client(REMOTE_ADDR="203.0.113.5"), "ops", "right-password"))


def test_one_address_guessing_many_usernames_is_locked_out(ops_user, settings):
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(10):
        log_in(guesser, f"user{n}", "guess")

    response = log_in(guesser, "ops", "right-password")

    assert not logged_in(response)
    assert "Too many failed logins for this address." in response.content.decode()
    assert logged_in(log_in(Client(REMOTE_ADDR="198.51.100.7"), "ops", "right-password"))


def test_the_lockout_ends_with_its_window(ops_user, settings):
    settings.LOGIN_LOCKOUT_SECONDS = 2
    client = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(3):
        log_in(client, "ops", "guess")
    assert not logged_in(log_in(client, "ops", "right-password"))

    time.sleep(2.2)

    assert logged_in(log_in(client, "ops", "right-password"))


def test_each_failure_is_logged_with_the_username_and_address(ops_user, caplog):
    with caplog.at_level(logging.WARNING, logger="sleekbatch.security"):
        log_in(Client(REMOTE_ADDR="203.0.113.5"), "ops", "guess")

    [record] = [r for r in caplog.records if r.getMessage() == "admin.login_failed"]
    assert (record.username, record.client_address, record.failures_for_username) == ("ops", "203.0.113.5", 1)


def test_staff_can_still_log_in_while_the_shared_cache_is_down(ops_user, monkeypatch):
    import redis

    def down(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Connection refused")

    monkeypatch.setattr("sleekbatch.login_guard.read_counts", down)
    monkeypatch.setattr("sleekbatch.login_guard.count_hits", down)

    assert not logged_in(log_in(Client(REMOTE_ADDR="203.0.113.5"), "ops", "guess"))
    assert logged_in(log_in(Client(REMOTE_ADDR="203.0.113.5"), "ops", "right-password"))
