from django.utils import timezone

from orders.models import Order
from orders.services import order_submit

STYLE_DETAILS = [{"style": "classic", "color": "navy", "sizes": {"M": 8, "L": 4}}]


def test_it_stores_a_submitted_order_as_model_save_would(alice):
    # given: the same order stored by Model.save
    reference = Order(buyer=alice, product_type="hoodie", quantity=12, style_details=STYLE_DETAILS)
    reference.save(force_insert=True)
    before = timezone.now()

    # when
    order = order_submit(
        buyer=alice,
        product_type="hoodie",
        quantity=12,
        style_details=STYLE_DETAILS,
        idempotency_key="key-1",
        request_fingerprint="f" * 64,
        correlation_id="req-1",
    ).order

    # then: every column reads back as save() writes it
    stored = Order.objects.get(pk=order.pk)
    differing = {"id", "created_at", "updated_at", "idempotency_key", "request_fingerprint", "correlation_id"}
    for field in Order._meta.concrete_fields:
        if field.name not in differing:
            assert getattr(stored, field.attname) == getattr(reference, field.attname), field.name
    assert (stored.idempotency_key, stored.request_fingerprint, stored.correlation_id) == ("key-1", "f" * 64, "req-1")
    assert before <= stored.created_at == order.created_at <= stored.updated_at == order.updated_at
    assert stored.style_details == STYLE_DETAILS and stored.workflow_status == Order.Status.SUBMITTED
    assert not order._state.adding and order._state.db == "default"


def test_it_leaves_a_submitted_order_without_a_key_null_so_keys_stay_unique_per_buyer(alice):
    # when
    first = order_submit(buyer=alice, product_type="hoodie", quantity=12, style_details=STYLE_DETAILS).order
    second = order_submit(buyer=alice, product_type="hoodie", quantity=12, style_details=STYLE_DETAILS).order

    # then
    assert Order.objects.filter(pk__in=[first.pk, second.pk], idempotency_key__isnull=True).count() == 2
