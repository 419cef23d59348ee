import pytest

from batches.pooling.tasks import DRAIN_REQUEST
from batches.tasks import orchestrate_batches
from orders.models import Order
from tests.factories import OrderFactory, ProductionBatchFactory, SupplierOfferFactory

# MOQ 100, tiers 12.00 / 10.00 from 100 / 9.00 from 200; buyer price at the target 11.50.
HOODIE_TIERS = [
    {"min_quantity": 1, "unit_price": "12.00"},
    {"min_quantity": 100, "unit_price": "10.00"},
    {"min_quantity": 200, "unit_price": "9.00"},
]


@pytest.fixture
def hoodie_offer(transactional_db, settings):
    settings.PRICING_MARGIN = "0.15"
    settings.PRICING_STYLE_SURCHARGE = "0.50"
    return SupplierOfferFactory(
        product_type="hoodie", moq=100, max_styles=3, lead_time_days=14, price_tiers=HOODIE_TIERS
    )


@pytest.fixture
def orchestration_requests(monkeypatch):
    """The batch ids of each orchestration request pooling sent after commit."""
    requests = []
    monkeypatch.setattr(orchestrate_batches, "delay", lambda batch_ids: requests.append(batch_ids))
    return requests


@pytest.fixture(autouse=True)
def _no_pending_drain_request():
    DRAIN_REQUEST.clear()
    yield
    DRAIN_REQUEST.clear()


def submitted(quantity: int = 10, styles=("classic",), product_type: str = "hoodie", **fields) -> Order:
    return OrderFactory(
        quantity=quantity,
        product_type=product_type,
        style_details=[{"style": style} for style in styles],
        **fields,
    )


def open_batch(offer, current: int, styles=("classic",), **fields):
    return ProductionBatchFactory(
        offer=offer, current_quantity=current, styles=sorted(styles), supplier_unit_price="10.00", **fields
    )
