"""How Xero writes values on the wire: Microsoft JSON dates, 2-dp money, envelopes and error bodies."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec

_ENCODER = msgspec.json.Encoder(decimal_format="number")
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

NOT_FOUND_TEXT = "The resource you're looking for cannot be found"


def money(value: Decimal) -> Decimal:
    """Xero keeps amounts to 2 dp, halves rounded away from zero."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ms_date(value: date) -> str:
    moment = datetime.combine(value, time(), UTC)
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def ms_timestamp(value: datetime) -> str:
    return f"/Date({int(value.timestamp() * 1000)})/"


def parse_date(text: str) -> date:
    """A request date: ``YYYY-MM-DD``, an ISO date-time, or ``/Date(ms)/``. Raises ValueError."""
    if found := _MS_DATE.match(text):
        return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC).date()
    if "T" in text:
        return datetime.fromisoformat(text).date()
    return date.fromisoformat(text)


def parse_timestamp(text: str) -> datetime:
    """An ``If-Modified-Since`` value: ISO 8601 (naive means UTC) or an HTTP date."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        from email.utils import parsedate_to_datetime

        moment = parsedate_to_datetime(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def to_wire(value: Any) -> Any:
    """Python values of a stored record turned into what Xero sends (dates as /Date()/).

    This is the one place private bookkeeping (keys starting with ``_``) and unset values are dropped.
    """
    if isinstance(value, Mapping):
        return {key: to_wire(item) for key, item in value.items() if not key.startswith("_") and item is not None}
    if isinstance(value, list):
        return [to_wire(item) for item in value]
    if isinstance(value, datetime):
        return ms_timestamp(value)
    if isinstance(value, date):
        return ms_date(value)
    return value


def encode(body: Any) -> bytes:
    return _ENCODER.encode(body)


def envelope(plural: str, records: list[Any], now: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": "FlexLedger sandbox",
        "DateTimeUTC": ms_timestamp(now),
        **extra,
        plural: records,
    }


def validation_error(elements: list[Any]) -> dict[str, Any]:
    return {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": elements,
    }


def rejection(messages: list[str]) -> dict[str, Any]:
    """A 400 for one element that failed: its messages, as a ValidationException."""
    return validation_error([{"ValidationErrors": [{"Message": m} for m in messages]}])


def problem(status: int, title: str, detail: str) -> dict[str, Any]:
    """The problem-style body Xero's gateway answers 401 and 403 with."""
    return {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }
