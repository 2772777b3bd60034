"""Field types shared by request schemas. Checks that a type cannot express run in
``__post_init__`` via ``check_*``; msgspec turns their ValueError into a 400 naming the field."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from app.kit.geo import COUNTRIES, is_time_zone
from app.kit.money import is_currency

Name = Annotated[str, Meta(min_length=1, max_length=200)]
Email = Annotated[str, Meta(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Password = Annotated[str, Meta(min_length=10, max_length=200)]
CurrencyCode = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
CountryCode = Annotated[str, Meta(pattern=r"^[A-Z]{2}$")]
TimeZone = Annotated[str, Meta(min_length=1, max_length=64)]
Phone = Annotated[str, Meta(max_length=40, pattern=r"^\+?[0-9 ()-]{3,40}$")]


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies: unknown fields are an error, not silently dropped."""


def check_currency(code: Any) -> None:
    if isinstance(code, str) and not is_currency(code):
        raise ValueError(f"'{code}' is not an ISO 4217 currency code")


def check_country(code: Any) -> None:
    if isinstance(code, str) and code not in COUNTRIES:
        raise ValueError(f"'{code}' is not an ISO 3166-1 country code")


def check_time_zone(name: Any) -> None:
    if isinstance(name, str) and not is_time_zone(name):
        raise ValueError(f"'{name}' is not an IANA time zone (e.g. 'Europe/London')")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def apply_patch(row: object, patch: msgspec.Struct) -> None:
    """Copy the fields a PATCH body actually set onto ``row``."""
    for field, value in msgspec.structs.asdict(patch).items():
        if value is not msgspec.UNSET:
            setattr(row, field, value)
