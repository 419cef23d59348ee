"""Supplier bank and contact details: encrypted at rest, rotated by command, shown only to that
supplier's users and ops, never in a log line."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from sleekbatch.encryption import FieldKeyError, SensitiveStr
from sleekbatch.models import AuditEntry
from suppliers.models import Supplier
from tests.factories import SupplierFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
IBAN = "DE89370400440532013000"
BIC = "COBADEFFXXX"
DETAILS = {
    "contact_name": "Rahima Akter",
    "contact_phone": "+880 2 5505 1234",
    "bank_account_holder": "Dhaka Knits Ltd",
    "bank_iban": "de89 3704 0044 0532 0130 00",
    "bank_bic": "cobadeffxxx",
}
SECRET_VALUES = ["Rahima Akter", "5505 1234", "Dhaka Knits Ltd", IBAN, "3704 0044", BIC]


def _url(supplier) -> str:
    return f"/api/suppliers/{supplier.pk}/details/"


def _raw_column(supplier, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM suppliers_supplier WHERE id = %s", [supplier.pk])
        return cursor.fetchone()[0]


def _with_details(supplier=None) -> Supplier:
    supplier = supplier or SupplierFactory()
    Supplier.objects.filter(pk=supplier.pk).update(
        contact_name="Rahima Akter", bank_iban=IBAN, bank_bic=BIC, bank_account_holder="Dhaka Knits Ltd"
    )
    return Supplier.objects.get(pk=supplier.pk)


# --- at rest ---------------------------------------------------------------------------------


def test_the_stored_column_is_ciphertext_and_the_model_reads_the_value():
    # when
    supplier = _with_details()

    # then
    raw = _raw_column(supplier, "bank_iban")
    assert IBAN not in raw and "Rahima" not in _raw_column(supplier, "contact_name")
    assert raw.startswith("gAAAA")  # a Fernet token
    assert supplier.bank_iban == IBAN
    assert _raw_column(supplier, "contact_phone") == ""  # a blank stays blank


def test_a_decrypted_value_is_masked_in_repr_but_not_to_code():
    supplier = _with_details()

    assert isinstance(supplier.bank_iban, SensitiveStr)
    assert IBAN not in repr(supplier.bank_iban) and IBAN not in repr({"iban": supplier.bank_iban})
    assert f"{supplier.bank_iban}" == IBAN and json.dumps(supplier.bank_iban) == json.dumps(IBAN)
    supplier.bank_iban = "GB82WEST12345698765432"  # assigned by a form or a serializer
    assert "GB82" not in repr(supplier.bank_iban)


# --- keys ------------------------------------------------------------------------------------


def test_rotation_re_encrypts_every_row_and_the_old_key_can_then_be_dropped(settings):
    # given: rows written under the old key
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    suppliers = [_with_details() for _ in range(3)]
    SupplierFactory()  # no details: nothing to re-encrypt
    before = _raw_column(suppliers[0], "bank_iban")

    # when: the new key goes first and the command runs
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    out = io.StringIO()
    call_command("rotate_field_keys", "--chunk-size", "2", stdout=out)

    # then
    assert "suppliers.Supplier: 2/4 rows read, 2 re-encrypted" in out.getvalue()
    assert "suppliers.Supplier: 4/4 rows read, 3 re-encrypted" in out.getvalue()
    assert "done: 3 row(s) re-encrypted" in out.getvalue()
    after = _raw_column(suppliers[0], "bank_iban")
    assert after != before
    assert Fernet(new_key.encode()).decrypt(after.encode()).decode() == IBAN

    # when: run again, it finds nothing to do
    again = io.StringIO()
    call_command("rotate_field_keys", stdout=again)
    assert "done: 0 row(s) re-encrypted" in again.getvalue()
    assert _raw_column(suppliers[0], "bank_iban") == after

    # when: the old key is dropped, every row still reads
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert [s.bank_iban for s in Supplier.objects.filter(pk__in=[s.pk for s in suppliers])] == [IBAN] * 3


def test_a_value_under_a_key_no_longer_configured_is_a_clear_error(settings):
    # given
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    supplier = _with_details()

    # when: the key it was written with is gone
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    # then
    with pytest.raises(FieldKeyError, match=r"cannot decrypt suppliers\.Supplier\.\w+: none of the 1 key\(s\) in "):
        Supplier.objects.get(pk=supplier.pk)


def _manage_check(**env) -> subprocess.CompletedProcess:
    drop = {"DATABASE_URL", "DEBUG", "SLEEKBATCH_FIELD_KEYS"}
    full_env = {k: v for k, v in os.environ.items() if k not in drop}
    full_env.update(DATABASE_URL="postgres://nobody@127.0.0.1:1/sleekbatch", **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (None, "sleekbatch: configuration error: SLEEKBATCH_FIELD_KEYS is not set"),
        ("not-a-key", "sleekbatch: configuration error: SLEEKBATCH_FIELD_KEYS: key 1 is not a Fernet key"),
    ],
    ids=["missing", "malformed"],
)
def test_the_production_profile_refuses_to_start_without_a_field_key(keys, message):
    result = _manage_check(**({"SLEEKBATCH_FIELD_KEYS": keys} if keys else {}))

    assert result.returncode == 1
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_the_production_profile_starts_with_a_field_key():
    assert _manage_check(SLEEKBATCH_FIELD_KEYS=Fernet.generate_key().decode()).returncode == 0


# --- the API ---------------------------------------------------------------------------------


def test_a_supplier_user_saves_and_reads_their_details_normalised(api_client_for, sally, dhaka):
    # when
    response = api_client_for(sally).put(_url(dhaka), DETAILS, format="json")

    # then
    assert response.status_code == 200, response.content
    assert response.json()["bank_iban"] == IBAN and response.json()["bank_bic"] == BIC
    assert api_client_for(sally).get(_url(dhaka)).json()["contact_name"] == "Rahima Akter"
    assert IBAN not in _raw_column(dhaka, "bank_iban")
    assert not AuditEntry.objects.exists()  # a supplier's own change is not a staff decision


def test_ops_change_is_audited_with_the_values_masked(api_client_for, olivia, dhaka):
    # when
    response = api_client_for(olivia).put(_url(dhaka), DETAILS, format="json")

    # then
    assert response.status_code == 200, response.content
    entry = AuditEntry.objects.get()
    assert set(entry.after) == {"contact_name", "contact_phone", "bank_account_holder", "bank_iban", "bank_bic"}
    assert set(entry.after.values()) == {"********"} and set(entry.before.values()) == {""}
    text = json.dumps([entry.before, entry.after, entry.object_repr])
    assert not any(value in text for value in SECRET_VALUES)


def test_another_supplier_gets_404_and_a_buyer_403(api_client_for, pete, alice, dhaka):
    _with_details(dhaka)

    assert api_client_for(pete).get(_url(dhaka)).status_code == 404
    assert api_client_for(pete).put(_url(dhaka), DETAILS, format="json").status_code == 404
    assert api_client_for(alice).get(_url(dhaka)).status_code == 403


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("bank_iban", "DE89370400440532013001", "The IBAN's check digits do not match"),
        ("bank_iban", "DE8937040044053201300", "An IBAN of DE has 22 characters, this one 21."),
        ("bank_iban", "12345", "Not an IBAN"),
        ("bank_bic", "COBADE", "Not a BIC/SWIFT code"),
        ("contact_phone", "call me", "A phone number"),
    ],
)
def test_bad_bank_details_are_a_clear_400_and_nothing_is_stored(api_client_for, sally, dhaka, field, value, message):
    # when
    response = api_client_for(sally).put(_url(dhaka), {**DETAILS, field: value}, format="json")

    # then
    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert value not in response.content.decode()
    assert _raw_column(dhaka, "bank_iban") == ""


def test_the_values_never_reach_a_log_line_of_the_request_that_saves_them(api_client_for, sally, dhaka, caplog):
    # given
    caplog.set_level(logging.DEBUG)

    # when: a good save, and a refused one
    api_client_for(sally).put(_url(dhaka), DETAILS, format="json", QUERY_STRING="iban=" + IBAN)
    api_client_for(sally).put(_url(dhaka), {**DETAILS, "bank_bic": "bad"}, format="json")

    # then
    assert caplog.records
    handler = logging.getLogger().handlers[0] if logging.getLogger().handlers else None
    for record in caplog.records:
        lines = [record.getMessage(), json.dumps(record.__dict__, default=str)]
        if handler is not None and handler.formatter is not None:
            lines.append(handler.formatter.format(record))
        for line in lines:
            assert not any(value in line for value in SECRET_VALUES), line


# --- the admin -------------------------------------------------------------------------------


def test_ops_see_the_details_on_the_supplier_page_but_not_in_the_list(client, olivia, dhaka):
    # given
    _with_details(dhaka)
    client.force_login(olivia)

    # then
    page = client.get(f"/admin/suppliers/supplier/{dhaka.pk}/change/").content.decode()
    assert IBAN in page and "Rahima Akter" in page
    assert '<input type="text" name="bank_iban"' in page  # one line, not a text area
    assert "Bank details" in page
    listing = client.get("/admin/suppliers/supplier/").content.decode()
    assert "Dhaka Knits" in listing and IBAN not in listing and "Rahima" not in listing


def test_the_admin_refuses_a_bad_iban_and_stores_nothing(client, olivia, dhaka):
    # given
    client.force_login(olivia)
    url = f"/admin/suppliers/supplier/{dhaka.pk}/change/"
    data = {
        "name": dhaka.name,
        "code": dhaka.code,
        "is_active": "on",
        "bank_iban": "DE89370400440532013001",
        "offers-TOTAL_FORMS": "0",
        "offers-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }

    # when
    response = client.post(url, data)

    # then
    assert response.status_code == 200
    assert "check digits do not match" in response.content.decode()
    assert _raw_column(dhaka, "bank_iban") == ""
    assert not AuditEntry.objects.exists()


def test_ops_save_details_in_the_admin_normalised_and_audited_masked(client, olivia, dhaka):
    # given
    client.force_login(olivia)
    url = f"/admin/suppliers/supplier/{dhaka.pk}/change/"
    data = {
        "name": dhaka.name,
        "code": dhaka.code,
        "is_active": "on",
        "bank_iban": DETAILS["bank_iban"],
        "bank_bic": DETAILS["bank_bic"],
        "offers-TOTAL_FORMS": "0",
        "offers-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }

    # when
    response = client.post(url, data)

    # then
    assert response.status_code == 302
    stored = Supplier.objects.get(pk=dhaka.pk)
    assert (stored.bank_iban, stored.bank_bic) == (IBAN, BIC)
    entry = AuditEntry.objects.get()
    assert entry.after == {"bank_iban": "********", "bank_bic": "********"}
    assert entry.before == {"bank_iban": "", "bank_bic": ""}


def test_an_error_while_saving_details_mails_none_of_the_values(api_client_for, olivia, dhaka, settings, monkeypatch):
    # given: the save fails after validation, with the values in its frames
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    monkeypatch.setattr("sleekbatch.error_reports.CACHE_PREFIX", f"test-error-mail:{dhaka.pk}-{id(settings)}")
    _with_details(dhaka)

    def failing_save(*, supplier_id, actor, details):
        stored = Supplier.objects.get(pk=supplier_id)
        iban = stored.bank_iban  # noqa: F841 - a local the traceback would print
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("suppliers.api.views.supplier_details_set", failing_save)
    client = api_client_for(olivia)
    client.raise_request_exception = False

    # when
    response = client.put(_url(dhaka), DETAILS, format="json")

    # then
    from django.core import mail

    assert response.status_code == 500
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    texts = [message.body] + [content for content, _type in getattr(message, "alternatives", [])]
    assert "RuntimeError" in message.body
    for text in texts:
        assert not any(value in str(text) for value in SECRET_VALUES)
