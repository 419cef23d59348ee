"""Admin forms for supplier offers: price tiers edited as rows of a table, not raw JSON."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from suppliers.models import SupplierOffer
from suppliers.pricing import validate_price_tiers

# Blank rows offered below the existing tiers; save and reopen the offer for more.
EXTRA_TIER_ROWS = 3


def _tier_row(tier) -> tuple | None:
    """A stored tier (a dict) or the rows as typed (pairs, when the form comes back with an error)."""
    if isinstance(tier, dict):
        return tier.get("min_quantity", ""), tier.get("unit_price", "")
    if isinstance(tier, tuple | list) and len(tier) == 2:
        return tuple(tier)
    return None


class PriceTiersWidget(forms.Widget):
    """One row per tier: "from quantity" and "unit price"; empty rows are ignored."""

    def format_value(self, value):
        return value if isinstance(value, list) else []

    def render(self, name, value, attrs=None, renderer=None):
        rows = [_tier_row(tier) for tier in self.format_value(value)]
        rows = [row for row in rows if row is not None] + [("", "")] * EXTRA_TIER_ROWS
        body = format_html_join(
            "",
            '<tr><td><input type="number" min="1" step="1" name="{0}-min_quantity" value="{1}" '
            'aria-label="From quantity" style="width:7em"></td>'
            '<td><input type="text" inputmode="decimal" name="{0}-unit_price" value="{2}" '
            'aria-label="Unit price" style="width:7em"></td></tr>',
            ((name, quantity, price) for quantity, price in rows),
        )
        element_id = (attrs or {}).get("id", f"id_{name}")
        return format_html(
            '<table class="price-tiers" id="{}"><thead><tr><th>From quantity</th><th>Unit price</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            element_id,
            body,
        )

    def value_from_datadict(self, data, files, name):
        quantities = data.getlist(f"{name}-min_quantity") if hasattr(data, "getlist") else []
        prices = data.getlist(f"{name}-unit_price") if hasattr(data, "getlist") else []
        return [
            (quantity.strip(), price.strip())
            for quantity, price in zip(quantities, prices, strict=False)
            if quantity.strip() or price.strip()
        ]

    def value_omitted_from_data(self, data, files, name):
        return f"{name}-min_quantity" not in data


class PriceTiersField(forms.Field):
    widget = PriceTiersWidget
    default_help_text = (
        "All-units volume tiers: an order of at least “from quantity” units pays that tier's unit price for "
        "every unit. The first tier starts at 1, quantities go up, and no tier is dearer than the one above it. "
        "Leave a row empty to drop it."
    )

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", self.default_help_text)
        super().__init__(**kwargs)

    def to_python(self, rows):
        if not rows:
            return []
        if isinstance(rows, list) and all(isinstance(row, dict) for row in rows):
            return rows  # the initial value, already tiers
        tiers = []
        for position, (quantity, price) in enumerate(rows, start=1):
            try:
                min_quantity = int(quantity)
            except ValueError:
                raise ValidationError(f"Row {position}: “{quantity}” is not a whole number of units.") from None
            try:
                unit_price = Decimal(price)
            except InvalidOperation:
                raise ValidationError(f"Row {position}: “{price}” is not a price such as 9.50.") from None
            tiers.append({"min_quantity": min_quantity, "unit_price": str(unit_price)})
        return sorted(tiers, key=lambda tier: tier["min_quantity"])

    def validate(self, tiers):
        super().validate(tiers)
        validate_price_tiers(tiers)


class SupplierOfferForm(forms.ModelForm):
    price_tiers = PriceTiersField()

    class Meta:
        model = SupplierOffer
        fields = ["supplier", "product_type", "moq", "lead_time_days", "max_styles", "price_tiers", "is_active"]
