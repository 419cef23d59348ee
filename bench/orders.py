"""Generated orders: payloads as buyers submit them, and COPY of many at once as submitted rows."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime

# Weighted like a real catalogue: a few styles carry most orders, and most
# orders name one style. Quantities are what small brands order per run.
STYLE_WEIGHTS = {"classic": 50, "oversized": 20, "crop": 15, "vintage": 10, "slim": 5}
STYLE_COUNT_WEIGHTS = {1: 70, 2: 22, 3: 8}
COLORS = ("black", "white", "navy", "heather-grey", "forest", "sand")
SIZES = ("XS", "S", "M", "L", "XL")
SMALL_QUANTITIES = (6, 10, 12, 12, 18, 20, 24, 24, 25, 30, 36, 40, 48, 50, 60, 72)
# A direct order reaches the best offer's MOQ on its own (issue: counted apart).
DIRECT_ORDER_SHARE = 0.005
DIRECT_QUANTITIES = (600, 800, 1000)


def order_payload(rng: random.Random, product_types: dict[str, int]) -> dict:
    """One order as a buyer would submit it: product type, quantity, 1–3 styles.

    ``product_types`` maps each product type to the most styles any of its offers runs
    (the intake refuses more), so every generated order is one the API accepts.
    """
    product_type = rng.choice(sorted(product_types))
    direct = rng.random() < DIRECT_ORDER_SHARE
    quantity = rng.choice(DIRECT_QUANTITIES if direct else SMALL_QUANTITIES)
    style_count = rng.choices(list(STYLE_COUNT_WEIGHTS), weights=list(STYLE_COUNT_WEIGHTS.values()))[0]
    style_count = min(style_count, product_types[product_type])
    styles: list[str] = []
    while len(styles) < style_count:
        style = rng.choices(list(STYLE_WEIGHTS), weights=list(STYLE_WEIGHTS.values()))[0]
        if style not in styles:
            styles.append(style)
    with_sizes = rng.random() < 0.5  # sizes are optional: for every style or for none
    details = []
    remaining = quantity
    for index, style in enumerate(styles):
        share = remaining if index == len(styles) - 1 else max(1, quantity // len(styles))
        remaining -= share
        item: dict = {"style": style, "color": rng.choice(COLORS)}
        if with_sizes:
            item["sizes"] = split_sizes(share, rng)
        details.append(item)
    return {"product_type": product_type, "quantity": quantity, "style_details": details}


def small_order_payloads(count: int, rng: random.Random, product_types: dict[str, int]) -> list[dict]:
    """``count`` orders that pool (no direct order: that takes another path)."""
    bodies: list[dict] = []
    while len(bodies) < count:
        body = order_payload(rng, product_types)
        if body["quantity"] not in DIRECT_QUANTITIES:
            bodies.append(body)
    return bodies


def split_sizes(quantity: int, rng: random.Random) -> dict[str, int]:
    sizes = rng.sample(SIZES, k=min(len(SIZES), max(1, min(quantity, 3))))
    split = {size: quantity // len(sizes) for size in sizes}
    split[sizes[0]] += quantity - sum(split.values())
    return {size: count for size, count in split.items() if count > 0}


def catalog_product_types() -> dict[str, int]:
    """Product type → most styles any of its offers runs, from the live catalogue."""
    from suppliers.catalog import catalog_load

    return {rules.product_type: rules.max_styles for rules in catalog_load().values()}


def copy_text(value) -> str:
    """One column of a PostgreSQL text-format COPY row."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    text = value if isinstance(value, str) else str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


COPY_BLOCK_BYTES = 1 << 20
# Stands in for the submit time while the rows are generated (it cannot occur in them).
SUBMITTED_AT_MARK = "\x00submitted-at\x00"


def order_copy_rows(count: int, *, seed: int, buyers: list, product_types: dict[str, int], fields, fixed: dict) -> str:
    """Text-format COPY data for ``count`` generated orders, with SUBMITTED_AT_MARK for the times.

    ``fields`` are the model's concrete fields; a column the bench does not set gets
    the field's default (JSON fields as JSON), so a new model field needs no change here.
    """
    rng = random.Random(seed)
    defaults = {}
    for f in fields:
        value = f.get_default()
        defaults[f.attname] = json.dumps(value) if f.get_internal_type() == "JSONField" else value
    lines = []
    for index in range(count):
        payload = order_payload(rng, product_types)
        row = dict(defaults, **fixed)
        row.update(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            buyer_id=buyers[index % len(buyers)],
            product_type=payload["product_type"],
            quantity=payload["quantity"],
            style_details=json.dumps(payload["style_details"]),
        )
        lines.append("\t".join(copy_text(row[f.attname]) for f in fields) + "\n")
    return "".join(lines)


def insert_orders(
    count: int, *, seed: int, buyers: list, product_types: dict[str, int], correlation_id: str
) -> datetime:
    """COPY ``count`` submitted orders in one transaction; returns their ``created_at``.

    The rows are generated first, so the submit time is taken right before the
    COPY: submit → pooled then includes only the COPY and its commit.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from orders.models import Order

    fields = [f for f in Order._meta.concrete_fields if not f.generated]
    fixed = {
        "workflow_status": Order.Status.SUBMITTED.value,
        "is_batch_order": True,
        "correlation_id": correlation_id,
        "created_at": SUBMITTED_AT_MARK,
        "updated_at": SUBMITTED_AT_MARK,
    }
    data = order_copy_rows(count, seed=seed, buyers=buyers, product_types=product_types, fields=fields, fixed=fixed)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    submitted_at = timezone.now()
    data = data.replace(SUBMITTED_AT_MARK, submitted_at.isoformat()).encode()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.copy(f"COPY {connection.ops.quote_name(Order._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for offset in range(0, len(data), COPY_BLOCK_BYTES):
                copy.write(data[offset : offset + COPY_BLOCK_BYTES])
    return submitted_at
