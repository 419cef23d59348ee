# Order intake needs the catalogue fresh per test and pooling recorded instead of sent.
from tests.orders.conftest import fresh_product_catalog, hoodie_offer, pooling_requests  # noqa: F401
