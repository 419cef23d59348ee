"""manage.py demo empties orders and batches: it refuses a database it does not own unless told --reset."""

import pytest
from django.core.management import CommandError, call_command

from tests.factories import OrderFactory, ProductionBatchFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    call_command("seed_demo")


def test_the_demo_refuses_orders_it_did_not_create(seeded, settings):
    # given: an order by someone other than the demo buyers
    if settings.IS_POSTGRES:
        pytest.skip("the production-profile refusal comes first; tested below")
    order = OrderFactory()

    # when / then
    with pytest.raises(CommandError, match=r"holds 1 order\(s\) and 0 batch\(es\) the demo did not create"):
        call_command("demo")
    assert order.__class__.objects.filter(id=order.id).exists()


def test_the_demo_refuses_batches_of_suppliers_it_did_not_seed(seeded, settings):
    if settings.IS_POSTGRES:
        pytest.skip("the production-profile refusal comes first; tested below")
    batch = ProductionBatchFactory()
    with pytest.raises(CommandError, match=r"0 order\(s\) and 1 batch\(es\)"):
        call_command("demo")
    assert batch.__class__.objects.filter(id=batch.id).exists()


def test_the_demo_never_runs_on_the_production_profile_without_reset(seeded, settings):
    settings.IS_POSTGRES = True
    with pytest.raises(CommandError, match="refusing to run on the production profile"):
        call_command("demo")
