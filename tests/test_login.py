"""Editors' login resists guessing: repeated failures pause logins from that address
and to that account, with a clear message; a right password before then still works."""

import pytest
from django.contrib.auth.models import User

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def chief(db):
    return User.objects.create_user("chief", password="the-right-passphrase", is_staff=True)


def log_in(client, username, password, address="192.0.2.10"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_wrong_passwords_pause_logins_with_a_clear_message(client, chief, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "chief", "guess").status_code == 200  # the form again
    response = log_in(client, "chief", "guess")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins" in page
    assert "Try again in 15 minutes" in page
    # Even the right password waits now.
    assert log_in(client, "chief", "the-right-passphrase").status_code == 429


def test_guessing_one_account_from_many_addresses_pauses_it(client, chief, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "chief", "guess", address=f"198.51.100.{n}")
    assert log_in(client, "chief", "the-right-passphrase", "203.0.113.5").status_code == 429


def test_guessing_many_accounts_from_one_address_pauses_the_address(client, chief, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, f"someone-{n}", "guess")
    assert log_in(client, "chief", "the-right-passphrase").status_code == 429


def test_a_right_password_before_the_limit_logs_in_and_starts_the_count_again(
    client, chief, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "chief", "guess")
    assert log_in(client, "chief", "the-right-passphrase").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "chief", "guess")
    assert log_in(client, "chief", "the-right-passphrase").status_code == 302
