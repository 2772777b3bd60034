from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from app.kit.schema import LINE, CountryCode, CurrencyCode, Email, Input, Name, check_country, check_currency

Line = Annotated[str, Meta(max_length=200, pattern=LINE)]
Short = Annotated[str, Meta(max_length=100, pattern=LINE)]
Terms = Annotated[int, Meta(ge=0, le=365, description="days from issue to due date")]


class CompanyCreate(Input):
    legal_name: Name
    billing_email: Email
    country: CountryCode
    currency: CurrencyCode
    home_location_id: uuid.UUID
    kind: Literal["company", "person"] = "company"
    address_line1: Line | None = None
    address_line2: Line | None = None
    city: Short | None = None
    region: Short | None = None
    postal_code: Annotated[str, Meta(max_length=20, pattern=LINE)] | None = None
    tax_number: Annotated[str, Meta(max_length=50, pattern=LINE)] | None = None
    payment_terms_days: Terms = 14
    tax_rate_id: uuid.UUID | None = None
    auto_charge: bool = False

    def __post_init__(self) -> None:
        check_country(self.country, "country")
        check_currency(self.currency, "currency")


class CompanyUpdate(Input):
    legal_name: Name | UnsetType = UNSET
    billing_email: Email | UnsetType = UNSET
    country: CountryCode | UnsetType = UNSET
    home_location_id: uuid.UUID | UnsetType = UNSET
    address_line1: Line | UnsetType | None = UNSET
    address_line2: Line | UnsetType | None = UNSET
    city: Short | UnsetType | None = UNSET
    region: Short | UnsetType | None = UNSET
    postal_code: Annotated[str, Meta(max_length=20, pattern=LINE)] | UnsetType | None = UNSET
    tax_number: Annotated[str, Meta(max_length=50, pattern=LINE)] | UnsetType | None = UNSET
    payment_terms_days: Terms | UnsetType = UNSET
    tax_rate_id: uuid.UUID | UnsetType | None = UNSET
    auto_charge: bool | UnsetType = UNSET

    def __post_init__(self) -> None:
        check_country(self.country, "country")


class CompanyOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    legal_name: str
    billing_email: str
    address_line1: str | None
    address_line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str
    tax_number: str | None
    currency: str
    payment_terms_days: int
    tax_rate_id: uuid.UUID | None
    auto_charge: bool
    home_location_id: uuid.UUID
    active: bool
    created_at: datetime
