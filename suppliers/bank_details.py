"""IBAN and BIC checks for supplier bank details: normalised, then a clear reason when they fail.

Messages never repeat the value (it is sensitive, and a 400 body may be logged by a client).
"""

import re

from django.core.exceptions import ValidationError

# ISO 13616: two letters (country), two check digits, up to 30 letters or digits.
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
# ISO 9362: bank (4 letters), country (2 letters), location (2), optional branch (3).
_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
# The registry's lengths for the countries suppliers bank in most; others are checked by checksum only.
IBAN_LENGTHS = {
    "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24,
    "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IT": 27, "LT": 20, "LU": 20,
    "LV": 21, "MT": 31, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19,
    "SK": 24, "TR": 26,
}  # fmt: skip


def iban_normalise(value: str) -> str:
    """``de89 3704 0044 0532 0130 00`` → ``DE89370400440532013000``."""
    return re.sub(r"[\s-]+", "", value or "").upper()


def bic_normalise(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def validate_iban(value: str) -> None:
    iban = iban_normalise(value)
    if not _IBAN.match(iban):
        raise ValidationError(
            "Not an IBAN: expected a country code, two check digits and 11 to 30 letters or digits.",
            code="iban_format",
        )
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        raise ValidationError(
            f"An IBAN of {iban[:2]} has {expected} characters, this one {len(iban)}.", code="iban_length"
        )
    digits = "".join(str(int(char, 36)) for char in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        raise ValidationError("The IBAN's check digits do not match: a character is mistyped.", code="iban_checksum")


def validate_bic(value: str) -> None:
    if not _BIC.match(bic_normalise(value)):
        raise ValidationError(
            "Not a BIC/SWIFT code: 8 or 11 characters, bank (4 letters), country (2 letters), "
            "location (2) and optionally branch (3).",
            code="bic_format",
        )
