from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from app.invoice.numbering import TEMPLATE
from app.kit.schema import (
    CountryCode,
    CurrencyCode,
    Input,
    Name,
    Text,
    TimeZone,
    check_country,
    check_currency,
    check_time_zone,
)

Code = Annotated[str, Meta(pattern=r"^[A-Z0-9]{2,10}$", description="Short code, e.g. LON; used in numbering")]
BillingDay = Annotated[int, Meta(ge=1, le=28)]
TaxMode = Literal["inclusive", "exclusive"]
Address = Text
NumberTemplate = Annotated[
    str, Meta(max_length=60, pattern=TEMPLATE.pattern, description="e.g. LON-{number:06}; default CODE-{number:06}")
]


class LocationCreate(Input):
    name: Name
    code: Code
    time_zone: TimeZone
    country: CountryCode
    currency: CurrencyCode
    tax_mode: TaxMode
    billing_day: BillingDay = 1
    address: Address | None = None
    invoice_number_template: NumberTemplate | None = None
    credit_note_number_template: NumberTemplate | None = None

    def __post_init__(self) -> None:
        check_time_zone(self.time_zone, "time_zone")
        check_country(self.country, "country")
        check_currency(self.currency, "currency")


class LocationUpdate(Input):
    name: Name | UnsetType = UNSET
    code: Code | UnsetType = UNSET
    time_zone: TimeZone | UnsetType = UNSET
    country: CountryCode | UnsetType = UNSET
    currency: CurrencyCode | UnsetType = UNSET
    tax_mode: TaxMode | UnsetType = UNSET
    billing_day: BillingDay | UnsetType = UNSET
    address: Address | UnsetType | None = UNSET
    invoice_number_template: NumberTemplate | UnsetType = UNSET
    credit_note_number_template: NumberTemplate | UnsetType = UNSET

    def __post_init__(self) -> None:
        check_time_zone(self.time_zone, "time_zone")
        check_country(self.country, "country")
        check_currency(self.currency, "currency")


class LocationOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    code: str
    time_zone: str
    country: str
    currency: str
    tax_mode: str
    billing_day: int
    address: str | None
    invoice_number_template: str
    credit_note_number_template: str
    active: bool
    created_at: datetime
    updated_at: datetime
