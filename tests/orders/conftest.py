import pytest

from suppliers.catalog import catalog_clear
from tests.factories import SupplierOfferFactory


@pytest.fixture(autouse=True)
def fresh_product_catalog():
    """The catalogue is cached per process; each test starts from the database."""
    catalog_clear()
    yield
    catalog_clear()


@pytest.fixture(autouse=True)
def pooling_requests(monkeypatch):
    """Records each request_pooling() call instead of sending a task to the broker."""
    calls = []
    monkeypatch.setattr("batches.pooling.tasks.request_pooling", lambda: calls.append("pooling"))
    return calls


@pytest.fixture
def hoodie_offer(db):
    """Hoodies, up to 3 styles per batch."""
    return SupplierOfferFactory(product_type="hoodie", max_styles=3)


def order_payload(**overrides) -> dict:
    payload = {
        "product_type": "hoodie",
        "quantity": 12,
        "style_details": [{"style": "classic", "color": "navy", "sizes": {"M": 8, "L": 4}}],
    }
    payload.update(overrides)
    return payload
