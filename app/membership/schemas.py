from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from app.kit.money import MAX_AMOUNT
from app.kit.schema import Day, Input, Text, beyond_schema, check_date

Quantity = Annotated[int, Meta(ge=1, le=10_000)]
Price = Annotated[int, Meta(ge=0, le=MAX_AMOUNT, description="minor units per interval, instead of the plan's price")]


class MembershipCreate(Input):
    company_id: uuid.UUID
    plan_id: uuid.UUID
    location_id: uuid.UUID
    start_date: Day
    end_date: Day | None = None
    member_id: uuid.UUID | None = None
    quantity: Quantity = 1
    price_override: Price | None = None
    discount_id: uuid.UUID | None = None
    notes: Text | None = None

    def __post_init__(self) -> None:
        check_date(self.start_date, "start_date")
        check_date(self.end_date, "end_date")
        if self.end_date is not None and self.end_date < self.start_date:
            raise beyond_schema("end_date", f"{self.end_date} is before start_date {self.start_date}")


class MembershipUpdate(Input):
    """Changes apply to periods not yet billed; a billed period is corrected by a credit note."""

    end_date: Day | UnsetType | None = UNSET
    member_id: uuid.UUID | UnsetType | None = UNSET
    quantity: Quantity | UnsetType = UNSET
    price_override: Price | UnsetType | None = UNSET
    discount_id: uuid.UUID | UnsetType | None = UNSET
    notes: Text | UnsetType | None = UNSET

    def __post_init__(self) -> None:
        check_date(self.end_date, "end_date")


class MembershipOut(msgspec.Struct):
    id: uuid.UUID
    company_id: uuid.UUID
    member_id: uuid.UUID | None
    plan_id: uuid.UUID
    location_id: uuid.UUID
    start_date: date
    end_date: date | None
    quantity: int
    price_override: int | None
    discount_id: uuid.UUID | None
    notes: str | None
    created_at: datetime
