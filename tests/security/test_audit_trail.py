"""Every staff decision writes exactly one audit entry (who, what, before/after, correlation id),
in the transaction of the change; the admin shows entries read-only."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.db import transaction

from batches.models import ProductionBatch
from sleekbatch.audit import AuditOutsideTransaction, audit_record
from sleekbatch.models import AuditEntry
from suppliers.admin import SupplierAdmin
from suppliers.models import Supplier, SupplierOffer
from tests.batches.factories import batch_filled_to, batch_in_review
from tests.factories import SupplierFactory, SupplierOfferFactory, UserFactory
from tests.suppliers.conftest import placed_supplier_order

pytestmark = pytest.mark.django_db

Action = AuditEntry.Action
Status = ProductionBatch.Status
QUEUE = "/admin/batches/batchinreview/"


def _only_entry() -> AuditEntry:
    entries = list(AuditEntry.objects.all())
    assert len(entries) == 1, [str(entry) for entry in entries]
    return entries[0]


def _admin_form_data(response) -> dict:
    """The POST body an admin change page would send back as it was rendered (inlines included)."""
    data = {}

    def add(form, prefix=""):
        for name in form.fields:
            value = form[name].value()
            key = f"{prefix}{name}"
            if value is None or value is False:
                continue
            if name == "price_tiers":  # rows of inputs (suppliers.forms.PriceTiersWidget)
                tiers = form.instance.price_tiers if form.instance.pk else []
                data[f"{key}-min_quantity"] = [str(tier["min_quantity"]) for tier in tiers]
                data[f"{key}-unit_price"] = [tier["unit_price"] for tier in tiers]
                continue
            data[key] = "on" if value is True else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for form in formset.forms:
            add(form, f"{form.prefix}-")
    return data


# --- review decisions: API and admin ---------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "action", "status_after"),
    [
        ("approve", None, Action.REVIEW_APPROVE, Status.CONFIRMED),
        ("cancel", None, Action.REVIEW_CANCEL, Status.CANCELLED),
        ("extend", {"hours": 24}, Action.REVIEW_EXTEND, Status.OPEN),
    ],
)
def test_a_review_decision_over_the_api_writes_one_entry(api_client_for, olivia, path, body, action, status_after):
    # given
    batch = batch_in_review(60)

    # when
    response = api_client_for(olivia).post(
        f"/api/batches/{batch.id}/{path}/", body, format="json", HTTP_X_REQUEST_ID="req-audit-1"
    )

    # then
    assert response.status_code == 200, response.content
    entry = _only_entry()
    assert (entry.action, entry.actor_id, entry.actor_username) == (action, olivia.pk, "olivia")
    assert (entry.object_type, entry.object_id) == ("batches.productionbatch", str(batch.id))
    assert entry.correlation_id == "req-audit-1"
    assert entry.before["batch_status"] == Status.ADMIN_REVIEW
    assert entry.after["batch_status"] == status_after
    assert "target_quantity" not in entry.before  # only what changed
    if action == Action.REVIEW_EXTEND:
        assert entry.after["window_closes_at"] > entry.before["window_closes_at"]


@pytest.mark.parametrize(
    ("admin_action", "extra", "action"),
    [
        ("approve", {"confirmed": "yes"}, Action.REVIEW_APPROVE),
        ("cancel_and_refund", {"confirmed": "yes"}, Action.REVIEW_CANCEL),
        ("extend_window", {"hours": "12"}, Action.REVIEW_EXTEND),
    ],
)
def test_a_review_decision_in_the_admin_writes_one_entry(client, olivia, admin_action, extra, action):
    # given
    batch = batch_in_review(60)
    client.force_login(olivia)

    # when
    client.post(
        QUEUE,
        {"action": admin_action, ACTION_CHECKBOX_NAME: [str(batch.id)], "index": 0, **extra},
        HTTP_X_REQUEST_ID="req-admin-7",
    )

    # then
    entry = _only_entry()
    assert (entry.action, entry.actor_username, entry.object_id) == (action, "olivia", str(batch.id))
    assert entry.correlation_id == "req-admin-7"
    assert entry.before["batch_status"] == Status.ADMIN_REVIEW


def test_a_refused_decision_writes_no_entry(api_client_for, olivia):
    # given: already decided by someone else
    batch = batch_filled_to(100, batch_status=Status.CONFIRMED)

    # when
    response = api_client_for(olivia).post(f"/api/batches/{batch.id}/approve/")

    # then
    assert response.status_code == 409
    assert not AuditEntry.objects.exists()


def test_the_asking_page_of_an_admin_decision_writes_no_entry(client, olivia):
    # given
    batch = batch_in_review(60)
    client.force_login(olivia)

    # when: the confirmation page, not yet confirmed
    client.post(QUEUE, {"action": "approve", ACTION_CHECKBOX_NAME: [str(batch.id)], "index": 0})

    # then
    assert not AuditEntry.objects.exists()


# --- admin edits -----------------------------------------------------------------------------


def test_an_admin_edit_of_a_supplier_records_the_changed_fields_before_and_after(client, olivia):
    # given
    supplier = SupplierFactory(name="Dhaka Knits", contact_email="old@dhaka.example")
    client.force_login(olivia)
    url = f"/admin/suppliers/supplier/{supplier.pk}/change/"
    data = _admin_form_data(client.get(url))

    # when
    response = client.post(url, {**data, "contact_email": "new@dhaka.example"}, HTTP_X_REQUEST_ID="req-edit")

    # then
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    entry = _only_entry()
    assert (entry.action, entry.object_type) == (Action.ADMIN_CHANGE, "suppliers.supplier")
    assert entry.object_id == str(supplier.pk)
    assert entry.before == {"contact_email": "old@dhaka.example"}
    assert entry.after == {"contact_email": "new@dhaka.example"}
    assert (entry.actor_username, entry.correlation_id, entry.object_repr) == ("olivia", "req-edit", "Dhaka Knits")


def test_saving_an_admin_page_unchanged_writes_no_entry(client, olivia):
    # given
    supplier = SupplierFactory()
    client.force_login(olivia)
    url = f"/admin/suppliers/supplier/{supplier.pk}/change/"

    # when
    response = client.post(url, _admin_form_data(client.get(url)))

    # then
    assert response.status_code == 302
    assert not AuditEntry.objects.exists()


def test_an_admin_addition_and_deletion_are_recorded(client, olivia):
    # given
    supplier = SupplierFactory()
    client.force_login(olivia)
    add_page = client.get("/admin/suppliers/supplieroffer/add/")
    assert add_page.status_code == 200

    # when: ops add an offer
    response = client.post(
        "/admin/suppliers/supplieroffer/add/",
        {
            "supplier": supplier.pk,
            "product_type": "jacket",
            "moq": 120,
            "lead_time_days": 20,
            "max_styles": 2,
            "is_active": "on",
            "price_tiers-min_quantity": ["1"],
            "price_tiers-unit_price": ["21.00"],
        },
    )

    # then
    assert response.status_code == 302
    offer = SupplierOffer.objects.get(product_type="jacket")
    added = _only_entry()
    assert (added.action, added.object_id, added.before) == (Action.ADMIN_ADD, str(offer.pk), {})
    assert added.after["moq"] == 120 and added.after["supplier_id"] == supplier.pk

    # when: a superuser deletes it
    AuditEntry.objects.all().delete()
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    response = client.post(f"/admin/suppliers/supplieroffer/{offer.pk}/delete/", {"post": "yes"})

    # then
    assert response.status_code == 302
    deleted = _only_entry()
    assert (deleted.action, deleted.object_id, deleted.actor_username) == (Action.ADMIN_DELETE, str(offer.pk), "root")
    assert deleted.before["product_type"] == "jacket" and deleted.after == {}


def test_an_inline_edit_on_the_supplier_page_is_recorded_for_the_offer(client, olivia):
    # given
    offer = SupplierOfferFactory(moq=100)
    client.force_login(olivia)
    url = f"/admin/suppliers/supplier/{offer.supplier_id}/change/"
    data = _admin_form_data(client.get(url))

    # when
    response = client.post(url, {**data, "offers-0-moq": "150"})

    # then
    assert response.status_code == 302
    entry = _only_entry()
    assert (entry.object_type, entry.object_id) == ("suppliers.supplieroffer", str(offer.pk))
    assert (entry.before, entry.after) == ({"moq": 100}, {"moq": 150})


def test_an_invalid_admin_edit_writes_no_entry(client, olivia):
    # given
    supplier = SupplierFactory()
    client.force_login(olivia)
    url = f"/admin/suppliers/supplier/{supplier.pk}/change/"
    data = _admin_form_data(client.get(url))

    # when
    response = client.post(url, {**data, "contact_email": "not an address"})

    # then
    assert response.status_code == 200
    assert not AuditEntry.objects.exists()


def test_a_change_that_fails_after_its_entry_leaves_neither(client, olivia, monkeypatch):
    # given: the admin fails after the save and the entry, still inside its transaction
    supplier = SupplierFactory(name="Before")
    client.force_login(olivia)
    url = f"/admin/suppliers/supplier/{supplier.pk}/change/"
    data = _admin_form_data(client.get(url))

    def broken_log_change(*args, **kwargs):
        raise RuntimeError("the admin log is unavailable")

    monkeypatch.setattr(SupplierAdmin, "log_change", broken_log_change)

    # when
    with pytest.raises(RuntimeError):
        client.post(url, {**data, "name": "After"})

    # then
    assert Supplier.objects.get(pk=supplier.pk).name == "Before"
    assert not AuditEntry.objects.exists()


# --- supplier-order moves --------------------------------------------------------------------


def test_a_supplier_order_move_by_ops_is_recorded_beside_its_event(api_client_for, olivia):
    # given
    supplier_order = placed_supplier_order(SupplierFactory(), quantity=80)

    # when
    response = api_client_for(olivia).post(
        f"/api/supplier-orders/{supplier_order.id}/cancel/",
        {"reason": "duplicate"},
        format="json",
        HTTP_X_REQUEST_ID="req-so",
    )

    # then
    assert response.status_code == 200, response.content
    entry = _only_entry()
    assert (entry.action, entry.object_id, entry.correlation_id) == (
        Action.SUPPLIER_ORDER_CANCEL,
        str(supplier_order.id),
        "req-so",
    )
    assert entry.before["status"] == "placed" and entry.after["status"] == "cancelled"
    assert supplier_order.events.get().correlation_id == "req-so"


def test_a_supplier_users_own_move_is_not_a_staff_decision(api_client_for):
    # given
    from tests.suppliers.conftest import _supplier_user

    supplier = SupplierFactory()
    supplier_order = placed_supplier_order(supplier, quantity=80)
    sally = _supplier_user("sally", supplier)

    # when
    response = api_client_for(sally).post(f"/api/supplier-orders/{supplier_order.id}/acknowledge/", {}, format="json")

    # then
    assert response.status_code == 200, response.content
    assert not AuditEntry.objects.exists()


# --- the entries themselves ------------------------------------------------------------------


def test_an_entry_keeps_who_decided_after_the_user_is_deleted(api_client_for):
    # given
    from tests.conftest import _persona

    temp = _persona("temp-ops", "ops")
    batch = batch_in_review(60)
    api_client_for(temp).post(f"/api/batches/{batch.id}/approve/")
    temp_id = temp.pk

    # when
    get_user_model().objects.filter(pk=temp_id).delete()

    # then
    entry = _only_entry()
    assert (entry.actor_id, entry.actor_username) == (temp_id, "temp-ops")


def test_ops_read_entries_in_the_admin_but_nobody_edits_or_deletes_them(client, olivia):
    # given
    batch = batch_in_review(60)
    client.force_login(olivia)
    client.post(QUEUE, {"action": "approve", ACTION_CHECKBOX_NAME: [str(batch.id)], "index": 0, "confirmed": "yes"})
    entry = _only_entry()
    root = UserFactory(username="root", is_staff=True, is_superuser=True)

    # then: ops list, search and filter them
    listing = client.get("/admin/sleekbatch/auditentry/", {"q": str(batch.id)})
    assert listing.status_code == 200 and listing.context["cl"].result_count == 1

    def count(**filters):
        return client.get("/admin/sleekbatch/auditentry/", filters).context["cl"].result_count

    assert count(action__exact="review_cancel") == 0
    assert count(action__exact="review_approve", actor_username="olivia") == 1

    for user in (olivia, root):
        client.force_login(user)
        page = client.get(f"/admin/sleekbatch/auditentry/{entry.pk}/change/")
        assert page.status_code == 200
        assert not page.context["has_change_permission"] and not page.context["has_delete_permission"]
        assert client.post(f"/admin/sleekbatch/auditentry/{entry.pk}/change/", {"object_id": "x"}).status_code == 403
        assert client.post(f"/admin/sleekbatch/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
        assert client.get("/admin/sleekbatch/auditentry/add/").status_code == 403

    assert AuditEntry.objects.get().object_id == str(batch.id)


def test_staff_without_the_ops_role_see_no_entries(client):
    # given: staff, but not ops
    clerk = UserFactory(username="clerk", is_staff=True)
    client.force_login(clerk)

    # then
    assert client.get("/admin/sleekbatch/auditentry/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_an_entry_outside_a_transaction_is_refused():
    # given: autocommit, no transaction around the call
    batch = batch_in_review(60)
    actor = UserFactory(username="olivia")

    # then
    with pytest.raises(AuditOutsideTransaction):
        audit_record(actor=actor, action=Action.ADMIN_CHANGE, obj=batch)
    with transaction.atomic():
        audit_record(actor=actor, action=Action.ADMIN_CHANGE, obj=batch)
    assert AuditEntry.objects.count() == 1
