from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

import msgspec
from msgspec import UNSET, Meta, UnsetType

from app.booking.models import RESOURCE_KINDS
from app.kit.schema import Input, Minute, Name, Text

Rate = Annotated[int, Meta(ge=0, le=10**12, description="minor units, in the location's currency")]
Capacity = Annotated[int, Meta(ge=1, le=10_000)]
Kind = Annotated[str, Meta(pattern="^(" + "|".join(RESOURCE_KINDS) + ")$")]


class ResourceCreate(Input):
    location_id: uuid.UUID
    name: Name
    kind: Kind = "meeting_room"
    hourly_rate: Rate | None = None
    daily_rate: Rate | None = None
    revenue_account_id: uuid.UUID | None = None
    capacity: Capacity | None = None

    json_schema: ClassVar[dict[str, Any]] = {
        "anyOf": [
            {"properties": {"hourly_rate": {"type": "integer"}}, "required": ["hourly_rate"]},
            {"properties": {"daily_rate": {"type": "integer"}}, "required": ["daily_rate"]},
        ]
    }

    def __post_init__(self) -> None:
        if self.hourly_rate is None and self.daily_rate is None:
            raise ValueError("a resource needs an hourly_rate, a daily_rate or both")


class ResourceUpdate(Input):
    """New rates apply to bookings made from now on; a booking keeps the price it was made at."""

    name: Name | UnsetType = UNSET
    hourly_rate: Rate | UnsetType | None = UNSET
    daily_rate: Rate | UnsetType | None = UNSET
    capacity: Capacity | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


class ResourceOut(msgspec.Struct):
    id: uuid.UUID
    location_id: uuid.UUID
    name: str
    kind: str
    hourly_rate: int | None
    daily_rate: int | None
    revenue_account_id: uuid.UUID
    capacity: int | None
    active: bool
    created_at: datetime


class BookingCreate(Input):
    resource_id: uuid.UUID
    company_id: uuid.UUID
    starts_at: Minute
    ends_at: Minute
    member_id: uuid.UUID | None = None
    title: Name | None = None
    discount_id: uuid.UUID | None = None


class BookingCancel(Input):
    reason: Text | None = None


class TimeCreditOut(msgspec.Struct):
    """Included time a billed booking used: ``quantity`` minutes (``unit`` hours) or days, of the
    plans' allowance for ``resource_kind`` (None: of any resource), worth ``value`` minor units."""

    unit: str
    resource_kind: str | None
    quantity: int
    value: int


class BookingOut(msgspec.Struct):
    id: uuid.UUID
    location_id: uuid.UUID
    resource_id: uuid.UUID
    company_id: uuid.UUID
    member_id: uuid.UUID | None
    title: str | None
    starts_at: datetime
    ends_at: datetime
    local_starts_at: str
    local_ends_at: str
    meeting_date: date
    minutes: int
    currency: str
    price: int
    pricing: dict[str, Any]
    discount_id: uuid.UUID | None
    status: str
    cancelled_reason: str | None
    credit_used: int
    time_credit: list[TimeCreditOut]
    invoice_line_id: uuid.UUID | None
    created_at: datetime
