from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from app.api_key.schemas import ApiKeyCreated
from app.kit.schema import (
    CountryCode,
    CurrencyCode,
    Day,
    Email,
    Input,
    Name,
    Password,
    Slug,
    TimeZone,
    check_country,
    check_currency,
    check_date,
    check_time_zone,
)


class TenantUpdate(Input):
    name: Name | UnsetType = UNSET
    support_email: Email | UnsetType | None = UNSET
    default_currency: CurrencyCode | UnsetType = UNSET
    default_country: CountryCode | UnsetType = UNSET
    default_time_zone: TimeZone | UnsetType = UNSET
    lock_date: Day | UnsetType | None = UNSET
    issue_on_run: bool | UnsetType = UNSET
    invoice_grouping: Annotated[str, Meta(pattern="^(company|split)$")] | UnsetType = UNSET
    invoice_location: Annotated[str, Meta(pattern="^(location|home)$")] | UnsetType = UNSET

    def __post_init__(self) -> None:
        check_currency(self.default_currency, "default_currency")
        check_country(self.default_country, "default_country")
        check_time_zone(self.default_time_zone, "default_time_zone")
        check_date(self.lock_date, "lock_date")


class TenantOut(msgspec.Struct):
    id: uuid.UUID
    slug: str
    name: str
    status: str
    support_email: str | None
    default_currency: str
    default_country: str
    default_time_zone: str
    lock_date: date | None
    issue_on_run: bool
    invoice_grouping: str
    invoice_location: str
    created_at: datetime
    updated_at: datetime


class OwnerCreate(Input):
    email: Email
    name: Name
    password: Password


class TenantCreate(Input):
    """Platform admin only: a new operator with its first owner."""

    slug: Slug
    name: Name
    default_currency: CurrencyCode
    default_country: CountryCode
    default_time_zone: TimeZone
    owner: OwnerCreate
    support_email: Email | None = None

    def __post_init__(self) -> None:
        check_currency(self.default_currency, "default_currency")
        check_country(self.default_country, "default_country")
        check_time_zone(self.default_time_zone, "default_time_zone")


class TenantCreated(msgspec.Struct):
    tenant: TenantOut
    owner_user_id: uuid.UUID
    owner_api_key: ApiKeyCreated
