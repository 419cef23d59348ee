"""Price tiers are edited in the admin as rows, validated by the pricing rules."""

import pytest

from suppliers.models import SupplierOffer
from tests.factories import SupplierFactory, SupplierOfferFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/suppliers/supplieroffer/add/"


def _offer_form(supplier, tiers, **fields):
    data = {
        "supplier": supplier.pk,
        "product_type": "jacket",
        "moq": 120,
        "lead_time_days": 20,
        "max_styles": 2,
        "is_active": "on",
        "price_tiers-min_quantity": [str(q) for q, _ in tiers],
        "price_tiers-unit_price": [p for _, p in tiers],
        **fields,
    }
    return data


def test_ops_add_an_offer_with_price_tiers_as_rows(client, olivia):
    # given: two tiers typed out of order and a blank row
    supplier = SupplierFactory()
    client.force_login(olivia)

    # when
    response = client.post(ADD, _offer_form(supplier, [("120", "18.50"), ("1", "21.00"), ("", "")]))

    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    offer = SupplierOffer.objects.get(product_type="jacket")
    assert offer.price_tiers == [
        {"min_quantity": 1, "unit_price": "21.00"},
        {"min_quantity": 120, "unit_price": "18.50"},
    ]


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ([("1", "10.00"), ("100", "12.00")], "dearer than the tier below"),
        ([("5", "10.00")], "The first tier must start at min_quantity 1."),
        ([("one", "10.00")], "is not a whole number of units"),
        ([("1", "ten")], "is not a price such as 9.50"),
        ([("", "")], "This field is required."),
    ],
)
def test_bad_tiers_are_refused_with_the_rule_they_break(client, olivia, tiers, message):
    # given
    supplier = SupplierFactory()
    client.force_login(olivia)

    # when
    response = client.post(ADD, _offer_form(supplier, tiers))

    # then
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SupplierOffer.objects.filter(product_type="jacket").exists()


def test_the_change_page_shows_each_tier_as_a_row_with_help(client, olivia):
    # given
    offer = SupplierOfferFactory()
    client.force_login(olivia)

    # when
    page = client.get(f"/admin/suppliers/supplieroffer/{offer.id}/change/").content.decode()

    # then
    assert 'name="price_tiers-min_quantity" value="100"' in page
    assert 'name="price_tiers-unit_price" value="10.00"' in page
    assert "All-units volume tiers" in page
    assert "<textarea" not in page


def test_a_refused_form_keeps_the_tiers_as_typed(client, olivia):
    # given: another field is wrong, so the page comes back with the tiers the user typed
    supplier = SupplierFactory()
    client.force_login(olivia)

    # when
    response = client.post(ADD, _offer_form(supplier, [("1", "21.00"), ("120", "oops")], moq="zero"))

    # then: the rows are shown again, the bad one included, so the next save does not lose them
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="price_tiers-min_quantity" value="1"' in page
    assert 'name="price_tiers-unit_price" value="21.00"' in page
    assert 'name="price_tiers-min_quantity" value="120"' in page
    assert 'name="price_tiers-unit_price" value="oops"' in page
