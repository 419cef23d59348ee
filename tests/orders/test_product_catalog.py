from orders import selectors
from orders.selectors import product_catalog_get, product_catalog_lookup
from suppliers.models import SupplierOffer
from tests.factories import SupplierFactory, SupplierOfferFactory


def test_it_keeps_the_largest_style_limit_of_the_active_offers(db):
    # given
    SupplierOfferFactory(product_type="tee", max_styles=2)
    SupplierOfferFactory(product_type="tee", max_styles=6)
    SupplierOfferFactory(product_type="tee", max_styles=9, is_active=False)

    # when
    catalog = product_catalog_get()

    # then
    assert catalog["tee"].max_styles == 6


def test_it_serves_the_catalogue_from_memory_until_it_expires(db, django_assert_num_queries, monkeypatch):
    # given
    SupplierOfferFactory(product_type="tee")
    now = [1000.0]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: now[0])
    product_catalog_get()

    # when / then
    with django_assert_num_queries(0):
        product_catalog_get()
    now[0] += selectors.PRODUCT_CATALOG_TTL_SECONDS
    with django_assert_num_queries(1):
        product_catalog_get()


def test_it_confirms_a_rejection_against_the_database(db, django_assert_num_queries):
    # given: the cache was filled before the offer existed, and the offer was
    # written without a signal reaching this process (as by another process)
    supplier = SupplierFactory()
    assert "cap" not in product_catalog_get()
    SupplierOffer.objects.bulk_create([SupplierOffer(supplier=supplier, product_type="cap", moq=50, max_styles=4)])

    # when
    with django_assert_num_queries(1):
        catalog = product_catalog_lookup(product_types={"cap"}, styles_needed={"cap": 4})

    # then
    assert catalog["cap"].max_styles == 4


def test_it_answers_from_memory_when_the_cache_can_say_yes(db, django_assert_num_queries):
    # given
    SupplierOfferFactory(product_type="tee", max_styles=3)
    product_catalog_get()

    # when / then
    with django_assert_num_queries(0):
        catalog = product_catalog_lookup(product_types={"tee"}, styles_needed={"tee": 3})
    assert catalog["tee"].max_styles == 3


def test_it_forgets_the_catalogue_when_an_offer_changes_in_this_process(db):
    # given
    offer = SupplierOfferFactory(product_type="tee", max_styles=3)
    assert product_catalog_get()["tee"].max_styles == 3

    # when
    offer.is_active = False
    offer.save()

    # then
    assert "tee" not in product_catalog_get()
