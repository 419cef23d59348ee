import pytest
from django.contrib.messages import get_messages

from batches.models import BatchEvent, ProductionBatch
from orders.models import Refund
from suppliers.models import SupplierOrder
from tests.batches.factories import batch_filled_to, batch_in_review

pytestmark = pytest.mark.django_db

Status = ProductionBatch.Status
QUEUE = "/admin/batches/batchinreview/"


@pytest.fixture
def ops_browser(client, olivia):
    client.force_login(olivia)
    return client


def _act(client, action, batches, *, confirmed=True, **extra):
    data = {"action": action, "_selected_action": [str(b.id) for b in batches], "index": 0, **extra}
    if confirmed:
        data["confirmed"] = "yes"
    return client.post(QUEUE, data, follow=True)


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_queue_lists_only_batches_in_review_with_their_orders(ops_browser):
    # given
    waiting = batch_in_review(62, target=100, orders=2)
    batch_filled_to(62, target=100)

    # when
    response = ops_browser.get(QUEUE)

    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert str(waiting.id)[:8] in page
    assert "62.00%" in page
    assert "(62 / 100)" in page
    assert waiting.supplier.name in page
    for contribution in waiting.contributions.select_related("order__buyer"):
        assert contribution.order.buyer.username in page
    assert response.context["cl"].result_count == 1


def test_ops_approve_from_the_queue(ops_browser, olivia):
    # given
    batch = batch_in_review(60)

    # when
    response = _act(ops_browser, "approve", [batch])

    # then
    batch.refresh_from_db()
    assert batch.batch_status == Status.CONFIRMED
    assert SupplierOrder.objects.filter(batch=batch).count() == 1
    assert BatchEvent.objects.get(batch=batch).actor == olivia
    placed = SupplierOrder.objects.get(batch=batch)
    assert f"supplier order {placed.order_number} placed" in " ".join(_messages(response))


def test_approve_asks_for_confirmation_showing_the_supplier_order_to_place(ops_browser):
    # given: 60 units at the frozen supplier price of 10.00
    batch = batch_in_review(60, orders=3)

    # when
    response = _act(ops_browser, "approve", [batch], confirmed=False)

    # then: nothing happened yet, and the page says what will
    batch.refresh_from_db()
    assert batch.batch_status == Status.ADMIN_REVIEW
    assert not SupplierOrder.objects.exists()
    page = response.content.decode()
    assert "Approve and place supplier orders?" in page
    assert batch.supplier.name in page
    assert "60 units × 10.00" in page
    assert "600.00" in page
    assert 'name="confirmed" value="yes"' in page
    assert f'name="_selected_action" value="{batch.id}"' in page


def test_cancel_asks_for_confirmation_showing_each_refund_and_their_sum(ops_browser):
    # given: 52 units over 3 orders at 11.50 a unit → 18 + 17 + 17 units
    batch = batch_in_review(52, orders=3)

    # when
    response = _act(ops_browser, "cancel_and_refund", [batch], confirmed=False)

    # then
    batch.refresh_from_db()
    assert batch.batch_status == Status.ADMIN_REVIEW
    assert not Refund.objects.exists()
    page = response.content.decode()
    assert "Cancel and refund every order?" in page
    assert page.count("195.50") == 2  # the two orders of 17 units
    assert "207.00" in page  # the order of 18 units
    assert "598.00" in page  # their sum
    for contribution in batch.contributions.select_related("order__buyer"):
        assert contribution.order.buyer.username in page


def test_ops_cancel_and_refund_from_the_queue(ops_browser):
    # given
    batch = batch_in_review(52, orders=3)

    # when
    response = _act(ops_browser, "cancel_and_refund", [batch])

    # then
    batch.refresh_from_db()
    assert batch.batch_status == Status.CANCELLED
    assert Refund.objects.count() == 3
    assert f"Cancelled batch {str(batch.id)[:8]}: 3 order(s) refunded, 598.00 in total." in _messages(response)


def test_ops_extend_from_the_queue_by_the_hours_chosen(ops_browser):
    # given
    batch = batch_in_review(52)

    # when
    _act(ops_browser, "extend_window", [batch], hours=6)

    # then
    batch.refresh_from_db()
    assert batch.batch_status == Status.OPEN
    assert BatchEvent.objects.get(batch=batch).details == {"hours": 6}


def test_an_extension_without_hours_is_refused_with_a_message(ops_browser):
    # given
    batch = batch_in_review(52)

    # when
    response = _act(ops_browser, "extend_window", [batch], hours="")

    # then
    batch.refresh_from_db()
    assert batch.batch_status == Status.ADMIN_REVIEW
    assert any("Give the number of hours" in message for message in _messages(response))


@pytest.mark.parametrize("hours", ["0", "9999", "-3", "two"])
def test_an_extension_out_of_range_says_the_range(ops_browser, hours):
    # given
    batch = batch_in_review(52)

    # when
    response = _act(ops_browser, "extend_window", [batch], hours=hours)

    # then
    batch.refresh_from_db()
    assert batch.batch_status == Status.ADMIN_REVIEW
    assert not BatchEvent.objects.exists()
    messages = _messages(response)
    assert any("1 to 720 hours" in message for message in messages), messages
    assert not any("No action selected" in message for message in messages)


def test_a_decision_on_a_batch_decided_meanwhile_is_refused_with_a_message(ops_browser, olivia):
    # given: the page was loaded while the batch was in review; someone else decided first
    batch = batch_in_review(60)
    ProductionBatch.objects.filter(id=batch.id).update(batch_status=Status.CANCELLED)

    # when
    response = _act(ops_browser, "approve", [batch])

    # then
    batch.refresh_from_db()
    assert batch.batch_status == Status.CANCELLED
    assert not SupplierOrder.objects.exists()
    assert f"Batch {str(batch.id)[:8]} is no longer in admin review (it is cancelled)" in " ".join(_messages(response))


def test_the_batch_admin_offers_no_way_around_the_state_machine(ops_browser):
    # given
    batch = batch_filled_to(60)

    # when
    change_page = ops_browser.get(f"/admin/batches/productionbatch/{batch.id}/change/")
    edit = ops_browser.post(f"/admin/batches/productionbatch/{batch.id}/change/", {"batch_status": "confirmed"})

    # then
    assert change_page.status_code == 200
    assert 'name="batch_status"' not in change_page.content.decode()
    assert edit.status_code == 403
    batch.refresh_from_db()
    assert batch.batch_status == Status.OPEN


def test_a_buyer_cannot_open_the_queue(client, alice):
    # given
    client.force_login(alice)

    # when
    response = client.get(QUEUE)

    # then
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
