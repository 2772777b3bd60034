"""Field types shared by request schemas. Checks that a type cannot express run in
``__post_init__`` via ``check_*``; msgspec turns their ValueError into a 400 (the message names
the field, since msgspec reports it against the whole body)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from email import errors, headerregistry
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from app.kit.errors import InvalidInput
from app.kit.geo import COUNTRIES, is_time_zone
from app.kit.money import MAX_AMOUNT, is_currency

# One line of printable text: no control characters (PostgreSQL cannot even store NUL).
LINE = r"^[^\x00-\x1f\x7f]*$"
# Several lines: line breaks and tabs allowed, other control characters not.
LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=LINE)]
Email = Annotated[
    str, Meta(max_length=320, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
]
Password = Annotated[str, Meta(min_length=10, max_length=200, pattern=r"^[^\x00]*$")]
Text = Annotated[str, Meta(max_length=500, pattern=LINES)]
CurrencyCode = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
CountryCode = Annotated[str, Meta(pattern=r"^[A-Z]{2}$")]
TimeZone = Annotated[str, Meta(min_length=1, max_length=64, pattern=LINE)]
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$"
Slug = Annotated[str, Meta(pattern=SLUG_PATTERN, description="lower-case, digits, dashes")]
Phone = Annotated[str, Meta(max_length=40, pattern=r"^\+?[0-9 ()-]{3,40}$")]


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies: unknown fields are an error, not silently dropped."""


def check_currency(code: Any, field: str) -> None:
    if isinstance(code, str) and not is_currency(code):
        raise ValueError(f"{field}: '{code}' is not an ISO 4217 currency code")


def check_country(code: Any, field: str) -> None:
    if isinstance(code, str) and code not in COUNTRIES:
        raise ValueError(f"{field}: '{code}' is not an ISO 3166-1 country code")


def check_time_zone(name: Any, field: str) -> None:
    if isinstance(name, str) and not is_time_zone(name):
        raise ValueError(f"{field}: '{name}' is not an IANA time zone (e.g. 'Europe/London')")


def over_the_limit(unit: int, quantity: int, field: str) -> str | None:
    """Why ``quantity`` of ``unit`` minor units is too much money for one line, or None."""
    if unit * quantity <= MAX_AMOUNT:
        return None
    return f"{field}: {quantity} x {unit} comes to {unit * quantity}, more than the {MAX_AMOUNT} one line may hold"


def check_product(unit: int, quantity: int, field: str) -> None:
    if (problem := over_the_limit(unit, quantity, field)) is not None:
        raise ValueError(problem)


def check_percent(value: Decimal, field: str, *, allow_zero: bool) -> None:
    """A percentage with at most 4 decimal places, above 0 (or from 0) up to 100."""
    if not value.is_finite():
        raise ValueError(f"{field}: {value} is not a number")
    low_ok = value >= 0 if allow_zero else value > 0
    if not low_ok or value > 100:
        raise ValueError(f"{field}: {value} is not a percentage {'from 0' if allow_zero else 'above 0'} up to 100")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        raise ValueError(f"{field}: at most 4 decimal places")


EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def check_date(value: Any, field: str) -> None:
    """Dates a business can mean: this century."""
    if isinstance(value, date) and not EARLIEST <= value <= LATEST:
        raise ValueError(f"{field}: {value} is outside {EARLIEST} to {LATEST}")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def valid_email(email: str) -> str:
    """The address to store: lower-cased, and one plain mailbox a mail server will accept as typed
    (no display names, lists or comments, which would reach other recipients or none)."""
    address = normalize_email(email)
    try:
        parsed = headerregistry.Address(addr_spec=address)
    except (ValueError, IndexError, errors.HeaderParseError):
        parsed = None
    if parsed is None or parsed.addr_spec != address or len(address) > 320 or not parsed.domain:
        raise InvalidInput(f"'{email}' is not an e-mail address we can send to.")
    return address


def apply_patch(row: object, patch: msgspec.Struct) -> None:
    """Copy the fields a PATCH body actually set onto ``row``."""
    for field, value in msgspec.structs.asdict(patch).items():
        if value is not msgspec.UNSET:
            setattr(row, field, value)
