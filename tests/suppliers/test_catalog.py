import time

import pytest

from suppliers import catalog as catalog_module
from suppliers.catalog import catalog_clear, catalog_get, catalog_lookup
from suppliers.models import SupplierOffer
from tests.factories import SupplierFactory, SupplierOfferFactory


@pytest.fixture(autouse=True)
def fresh_catalog():
    """The catalogue is cached per process; each test starts from the database."""
    catalog_clear()
    yield
    catalog_clear()


def test_it_keeps_the_largest_style_limit_of_the_active_offers(db):
    # given
    SupplierOfferFactory(product_type="tee", max_styles=2)
    SupplierOfferFactory(product_type="tee", max_styles=6)
    SupplierOfferFactory(product_type="tee", max_styles=9, is_active=False)

    # when
    catalog = catalog_get()

    # then
    assert catalog["tee"].max_styles == 6


def test_it_serves_the_catalogue_from_memory_until_it_expires(db, django_assert_num_queries, monkeypatch):
    # given
    SupplierOfferFactory(product_type="tee")
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    catalog_get()

    # when / then
    with django_assert_num_queries(0):
        catalog_get()
    now[0] += catalog_module.CATALOG_TTL_SECONDS
    with django_assert_num_queries(1):
        catalog_get()


def test_it_confirms_a_rejection_against_the_database(db, django_assert_num_queries):
    # given: the cache was filled before the offer existed, and the offer was
    # written without a signal reaching this process (as by another process)
    supplier = SupplierFactory()
    assert "cap" not in catalog_get()
    SupplierOffer.objects.bulk_create([SupplierOffer(supplier=supplier, product_type="cap", moq=50, max_styles=4)])

    # when
    with django_assert_num_queries(1):
        catalog = catalog_lookup(product_types={"cap"}, styles_needed={"cap": 4})

    # then
    assert catalog["cap"].max_styles == 4


def test_it_answers_from_memory_when_the_cache_can_say_yes(db, django_assert_num_queries):
    # given
    SupplierOfferFactory(product_type="tee", max_styles=3)
    catalog_get()

    # when / then
    with django_assert_num_queries(0):
        catalog = catalog_lookup(product_types={"tee"}, styles_needed={"tee": 3})
    assert catalog["tee"].max_styles == 3


def test_it_forgets_the_catalogue_when_an_offer_changes_in_this_process(db):
    # given
    offer = SupplierOfferFactory(product_type="tee", max_styles=3)
    assert catalog_get()["tee"].max_styles == 3

    # when
    offer.is_active = False
    offer.save()

    # then
    assert "tee" not in catalog_get()
