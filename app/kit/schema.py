"""Field types shared by request schemas. Checks that a type cannot express run in
``__post_init__`` via ``check_*``; msgspec turns their ValueError into a 400 (the message names
the field, since msgspec reports it against the whole body). Each such check is stated in the
document too (an enum, a pattern, an ``Input.json_schema``), so a 400 always means "breaks the
schema". A rule JSON Schema cannot state (an order of dates, a product, uniqueness by a key) is
refused with ``beyond_schema``: a 422, as a business rule is."""

from __future__ import annotations

from datetime import date, datetime
from email import errors, headerregistry
from typing import Annotated, Any, ClassVar

import msgspec
from msgspec import Meta

from app.kit.errors import InvalidInput
from app.kit.geo import COUNTRIES, is_time_zone, time_zones
from app.kit.money import CURRENCY_EXPONENTS, MAX_AMOUNT, is_currency

# One line of printable text: no control characters (PostgreSQL cannot even store NUL).
LINE = r"^[^\x00-\x1f\x7f]*$"
# Several lines: line breaks and tabs allowed, other control characters not.
LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=LINE)]
# One plain mailbox (``valid_email``): a dot-atom, @, and a domain of at least two labels.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
Email = Annotated[str, Meta(max_length=320, pattern=rf"^{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")]
Password = Annotated[str, Meta(min_length=10, max_length=200, pattern=r"^[^\x00]*$")]
Text = Annotated[str, Meta(max_length=500, pattern=LINES)]
# The lists ``check_*`` validates against, as enums, so the document names every accepted value.
CurrencyCode = Annotated[
    str, Meta(pattern=r"^[A-Z]{3}$", extra_json_schema={"enum": sorted(CURRENCY_EXPONENTS)}, description="ISO 4217")
]
CountryCode = Annotated[
    str, Meta(pattern=r"^[A-Z]{2}$", extra_json_schema={"enum": sorted(COUNTRIES)}, description="ISO 3166-1 alpha-2")
]
TimeZone = Annotated[
    str,
    Meta(
        min_length=1, max_length=64, pattern=LINE, extra_json_schema={"enum": sorted(time_zones())}, description="IANA"
    ),
]
# Dates and times as patterns that say exactly what the decoder takes (with leap years), so that
# a schema-valid value is never refused: ``format`` alone is only a hint to most tools.
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
# In the years 2000 to 2099 (``check_date``) and 2000 to 2999 (times).
DATE_2000S = rf"(?:20[0-9]{{2}}-{_MONTH_DAY}|20(?:[02468][048]|[13579][26])-02-29)"
_DATE_2XXX = rf"(?:2[0-9]{{3}}-{_MONTH_DAY}|(?:2[0-9](?:0[48]|[2468][048]|[13579][26])|2[048]00)-02-29)"
_CLOCK = r"[Tt ](?:[01][0-9]|2[0-3]):[0-5][0-9]"
_OFFSET = r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])"
UUID = r"(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})"
Day = Annotated[date, Meta(extra_json_schema={"pattern": f"^{DATE_2000S}$"}, description="2000-01-01 to 2099-12-31")]
# A whole minute in the years 2000 to 2999, with an offset or without one (a local time: so no
# ``format``, whose date-time needs an offset).
Minute = Annotated[
    datetime,
    Meta(
        extra_json_schema={"pattern": f"^{_DATE_2XXX}{_CLOCK}:00(?:\\.0{{1,6}})?{_OFFSET}?$", "format": None},
        description="a whole minute, with an offset, or without one for the location's local time",
    ),
]
# An instant in the years 2000 to 2999, with its offset.
Instant = Annotated[
    datetime,
    Meta(
        extra_json_schema={"pattern": f"^{_DATE_2XXX}{_CLOCK}:[0-5][0-9](?:\\.[0-9]{{1,6}})?{_OFFSET}$"},
        description="with a time zone offset, e.g. 2027-01-01T00:00:00Z",
    ),
]


def check_instant(value: Any, field: str) -> None:
    """What ``Instant`` says beyond the decoder: an offset, and a year from 2000 to 2999."""
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError(f"{field} needs a time zone offset, e.g. 2027-01-01T00:00:00Z")
    if isinstance(value, datetime) and not 2000 <= value.year <= 2999:
        raise ValueError(f"{field}: {value} is outside the years 2000 to 2999")


# Decimals travel as strings in their plain form (no exponent, sign or spaces), which the pattern
# is: the pattern is the whole rule, so the document and the decoder agree on every value.
PERCENT = r"^(?:100(?:\.0{1,4})?|[0-9]{1,2}(?:\.[0-9]{1,4})?)$"  # 0 to 100, at most 4 places
Percent = Annotated[str, Meta(pattern=PERCENT, description='a percentage from 0 to 100, e.g. "20" or "12.5"')]
PositivePercent = Annotated[
    str,
    Meta(
        pattern=r"^(?:100(?:\.0{1,4})?|0?[1-9](?:\.[0-9]{1,4})?|[1-9][0-9](?:\.[0-9]{1,4})?"
        r"|0{1,2}\.(?:[1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))$",
        description='a percentage above 0 up to 100, at most 4 decimal places, e.g. "12.5"',
    ),
]
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$"
Slug = Annotated[str, Meta(pattern=SLUG_PATTERN, description="lower-case, digits, dashes")]
Phone = Annotated[str, Meta(max_length=40, pattern=r"^\+?[0-9 ()-]{3,40}$")]


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies: unknown fields are an error, not silently dropped.

    ``json_schema`` states, in JSON Schema, the rules across fields that ``__post_init__``
    checks (a pair that comes together, a choice of fields), so the document shows them too."""

    json_schema: ClassVar[dict[str, Any]] = {}


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


def beyond_schema(field: str, message: str) -> InvalidInput:
    """The refusal of a rule across values that the document states only in words."""
    return InvalidInput(f"{field}: {message}", errors=[{"key": field, "message": message}])


def check_product(unit: int, quantity: int, field: str) -> None:
    if (problem := over_the_limit(unit, quantity, field)) is not None:
        raise beyond_schema(field, problem.removeprefix(f"{field}: "))


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
