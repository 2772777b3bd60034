from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import msgspec
from msgspec import Meta

from app.kit.money import MAX_AMOUNT
from app.kit.schema import LINE, Day, Input, Text, check_date, check_product

Description = Annotated[str, Meta(min_length=1, max_length=500, pattern=LINE)]


class FeeCreate(Input):
    company_id: uuid.UUID
    location_id: uuid.UUID
    description: Description
    unit_amount: Annotated[int, Meta(ge=0, le=MAX_AMOUNT, description="minor units, in the location's currency")]
    charge_date: Day
    quantity: Annotated[int, Meta(ge=1, le=100_000)] = 1
    revenue_account_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        check_date(self.charge_date, "charge_date")
        check_product(self.unit_amount, self.quantity, "quantity")


class FeeWaive(Input):
    reason: Text | None = None


class FeeOut(msgspec.Struct):
    id: uuid.UUID
    company_id: uuid.UUID
    location_id: uuid.UUID
    description: str
    quantity: Decimal
    unit_amount: int
    revenue_account_id: uuid.UUID
    charge_date: date
    status: str
    waived_reason: str | None
    invoice_line_id: uuid.UUID | None
    created_at: datetime
