"""Buyer notifications: recorded with each transition, once per event per order, mailed in chunks."""

import pytest
from django.core import mail
from django.utils import timezone

from batches import state
from batches.models import ProductionBatch
from batches.notifications import notifications_insert
from batches.orchestration import orchestration_sweep
from orders.models import Notification, NotificationOptOut, Order
from orders.notifications import notification_emails_send
from sleekbatch import sql
from suppliers.models import SupplierOrder
from tests.batches.factories import PooledOrderFactory, batch_filled_to, batch_in_review
from tests.factories import BatchContributionFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


@pytest.fixture
def sent_tasks(monkeypatch):
    """The names of the tasks sent by name (the mailer), instead of sending them."""
    from orders import notifications

    sent = []
    monkeypatch.setattr(notifications.app, "send_task", lambda name, *a, **kw: sent.append(name))
    return sent


def _alices_order_in(batch, alice, quantity=10):
    order = PooledOrderFactory(buyer=alice, quantity=quantity, product_type=batch.product_type)
    BatchContributionFactory(batch=batch, order=order)
    ProductionBatch.objects.filter(id=batch.id).update(current_quantity=batch.current_quantity + quantity)
    return order


def test_a_confirmed_batch_tells_each_buyer_the_supplier_order_and_expected_date(
    alice, sent_tasks, django_capture_on_commit_callbacks
):
    # given: alice's 10 units bring the batch to 80%
    batch = batch_filled_to(70, orders=2)
    order = _alices_order_in(batch, alice)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        orchestration_sweep()

    # then
    notification = Notification.objects.get(order=order)
    placed = SupplierOrder.objects.get(batch=batch)
    assert (notification.user, notification.kind) == (alice, Kind.ORDER_CONFIRMED)
    assert placed.order_number in notification.body
    assert f"{placed.promised_date:%b %d, %Y}" in notification.body
    assert Notification.objects.filter(kind=Kind.ORDER_CONFIRMED).count() == 3
    assert sent_tasks == ["orders.send_notification_emails"]


def test_a_sweep_run_twice_notifies_once_per_order(alice, sent_tasks):
    # given: a batch whose window closed at 30%
    batch = batch_filled_to(20, window_closed=True, orders=2)
    _alices_order_in(batch, alice)

    # when
    orchestration_sweep()
    orchestration_sweep()

    # then
    assert Notification.objects.filter(kind=Kind.ORDER_REFUNDED).count() == 3
    assert Notification.objects.count() == 3


def test_recording_the_same_event_again_inserts_nothing(alice):
    # given: a batch cancelled, its notifications recorded
    batch = batch_in_review(55, orders=3)
    now = timezone.now()
    state.batches_cancel(batch_ids=[batch.id], from_status="admin_review", reason="test", now=now)
    bodies = set(Notification.objects.values_list("body", flat=True))

    # when: the same notifications are recorded again (a redelivered task, a bug)
    orders = sql.Sql(f"FROM {sql.table(Order)} o WHERE 1 = 1")
    written = sql.execute(notifications_insert(Kind.ORDER_REFUNDED, orders, now=now, reason="again"))

    # then: nothing written, nothing overwritten
    assert written == 0
    assert Notification.objects.count() == 3
    assert set(Notification.objects.values_list("body", flat=True)) == bodies


def test_each_message_reads_its_order_batch_and_supplier_order(alice, django_capture_on_commit_callbacks):
    # given: alice's order of 10 at 12.50 in a batch that closed at 50 % and goes to review
    batch = batch_filled_to(40, window_closed=True, orders=1)
    order = _alices_order_in(batch, alice)
    Order.objects.filter(id=order.id).update(total_price="125.00")
    label = f"10 × {order.product_type} (order {str(order.id)[:8]})"

    # when: review, then cancel
    orchestration_sweep()
    state.batches_cancel(batch_ids=[batch.id], from_status="admin_review", reason="Out of stock")

    # then
    review = Notification.objects.get(order=order, kind=Kind.BATCH_IN_REVIEW)
    refund = Notification.objects.get(order=order, kind=Kind.ORDER_REFUNDED)
    fill = ProductionBatch.objects.get(id=batch.id).fill_basis_points / 100
    assert review.subject == f"In review: {label}"
    assert f"closed at {fill:.2f}% of the supplier's minimum" in review.body
    assert refund.subject == f"Refunded 125.00: {label}"
    assert refund.body == f"Your order {label} was refunded in full (125.00): Out of stock."
    assert refund.user == alice and refund.email_status == Notification.Email.PENDING


def test_cancelling_500_orders_asks_for_one_mailing_task(sent_tasks, django_capture_on_commit_callbacks):
    # given
    batch = batch_in_review(500, target=800, orders=500)

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        state.batches_cancel(batch_ids=[batch.id], from_status="admin_review", reason="Batch cancelled")

    # then: 500 notifications, one task
    assert Notification.objects.filter(kind=Kind.ORDER_REFUNDED).count() == 500
    assert sent_tasks == ["orders.send_notification_emails"]
    assert len(callbacks) == 1


def test_the_mailing_task_is_sent_only_after_commit(alice, sent_tasks, django_capture_on_commit_callbacks):
    batch = batch_in_review(55, orders=2)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        state.batches_cancel(batch_ids=[batch.id], from_status="admin_review", reason="x")
    assert sent_tasks == []  # not inside the transaction
    callbacks[0]()
    assert sent_tasks == ["orders.send_notification_emails"]


def test_review_and_extension_tell_the_buyer(alice):
    # given
    batch = batch_filled_to(50, window_closed=True, orders=1)
    order = _alices_order_in(batch, alice, quantity=5)

    # when: the sweep sends it to review, ops extend it, it closes in review again
    orchestration_sweep()
    state.review_extend_window(batch_id=batch.id, hours=12, actor=None)

    # then
    kinds = list(Notification.objects.filter(order=order).order_by("id").values_list("kind", flat=True))
    assert kinds == [Kind.BATCH_IN_REVIEW, Kind.BATCH_EXTENDED]
    extended = Notification.objects.get(order=order, kind=Kind.BATCH_EXTENDED)
    assert "12 more hours" in extended.body


def test_the_mailer_sends_pending_emails_in_chunks_and_respects_opt_outs(alice, bob):
    # given: alice has an address and opted out of refund emails; bob has none
    alice.email = "alice@example.com"
    alice.save()
    bob.email = ""
    bob.save()
    NotificationOptOut.objects.create(user=alice, kind=Kind.ORDER_REFUNDED)
    for user, kind in [(alice, Kind.ORDER_CONFIRMED)] * 5 + [(alice, Kind.ORDER_REFUNDED), (bob, Kind.ORDER_CONFIRMED)]:
        order = PooledOrderFactory(buyer=user)
        Notification.objects.create(user=user, order=order, kind=kind, event_key=kind, subject=f"s {kind}", body="b")

    # when
    totals = notification_emails_send(chunk_size=2)
    again = notification_emails_send(chunk_size=2)

    # then
    assert totals == {"sent": 5, "skipped": 2}
    assert again == {"sent": 0, "skipped": 0}
    assert len(mail.outbox) == 5
    assert {m.to[0] for m in mail.outbox} == {"alice@example.com"}
    assert all(m.subject == f"s {Kind.ORDER_CONFIRMED}" for m in mail.outbox)
    statuses = dict(Notification.objects.values_list("kind", "email_status").filter(kind=Kind.ORDER_REFUNDED))
    assert statuses == {Kind.ORDER_REFUNDED: Notification.Email.SKIPPED}


# --- the API ---------------------------------------------------------------------------------


def _notify(user, order=None, kind=Kind.ORDER_CONFIRMED):
    order = order or PooledOrderFactory(buyer=user, workflow_status=Order.Status.CONFIRMED)
    return Notification.objects.create(user=user, order=order, kind=kind, event_key=kind, subject="s", body="b")


def test_a_buyer_lists_only_their_notifications_newest_first(api_client_for, alice, bob):
    # given
    older, newer = _notify(alice), _notify(alice)
    _notify(bob)

    # when
    response = api_client_for(alice).get("/api/notifications/")

    # then
    assert response.status_code == 200
    assert [n["id"] for n in response.json()["results"]] == [newer.id, older.id]
    assert response.json()["results"][0]["read"] is False


def test_a_buyer_marks_one_and_then_all_read(api_client_for, alice):
    # given
    first, second, third = _notify(alice), _notify(alice), _notify(alice)
    client = api_client_for(alice)

    # when
    one = client.post(f"/api/notifications/{first.id}/read/")
    unread = client.get("/api/notifications/", {"unread": "true"})
    rest = client.post("/api/notifications/read-all/")

    # then
    assert one.status_code == 200 and one.json()["read"] is True
    assert {n["id"] for n in unread.json()["results"]} == {second.id, third.id}
    assert rest.json() == {"marked": 2}
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_another_users_notification_is_a_404(api_client_for, alice, bob):
    notification = _notify(alice)
    response = api_client_for(bob).post(f"/api/notifications/{notification.id}/read/")
    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_a_buyer_turns_emails_of_one_kind_off_and_on(api_client_for, alice):
    # given
    client = api_client_for(alice)

    # when
    off = client.patch("/api/notifications/email-preferences/", {"order_refunded": False}, format="json")
    on = client.patch("/api/notifications/email-preferences/", {"order_refunded": True}, format="json")

    # then
    assert off.status_code == 200
    assert off.json()["order_refunded"] is False
    assert off.json()["order_confirmed"] is True
    assert on.json()["order_refunded"] is True
    assert not NotificationOptOut.objects.exists()


@pytest.mark.parametrize("body", [{"order_lost": False}, {"order_refunded": "no"}, ["order_refunded"]])
def test_bad_email_preferences_are_a_400_and_change_nothing(api_client_for, alice, body):
    response = api_client_for(alice).patch("/api/notifications/email-preferences/", body, format="json")
    assert response.status_code == 400
    assert not NotificationOptOut.objects.exists()


def test_a_transition_that_tells_nobody_asks_for_no_mailing_task(sent_tasks, django_capture_on_commit_callbacks):
    # given: a batch at 65 % (nearing target: an event, no notification) and one in review with no pooled order
    nearing = batch_filled_to(65, orders=2)
    empty = batch_in_review(55, orders=1)
    Order.objects.filter(contribution__batch=empty).update(workflow_status=Order.Status.REFUNDED)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        state.batches_mark_nearing_target(batch_ids=[nearing.id])
        state.batches_extend_window(batch_ids=[empty.id], hours=2)

    # then
    assert not Notification.objects.exists()
    assert sent_tasks == []
