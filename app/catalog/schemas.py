from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from app.booking.models import RESOURCE_KINDS
from app.kit.money import MAX_AMOUNT
from app.kit.schema import (
    LINE,
    CurrencyCode,
    Input,
    Name,
    Percent,
    PositivePercent,
    beyond_schema,
    check_currency,
)

Amount = Annotated[int, Meta(ge=0, le=MAX_AMOUNT, description="minor units of the currency")]
ShortName = Annotated[str, Meta(min_length=1, max_length=100, pattern=LINE)]
AccountCode = Annotated[str, Meta(pattern=r"^[A-Za-z0-9._-]{1,20}$")]
ResourceKind = Literal[RESOURCE_KINDS]  # type: ignore[valid-type]


class TaxComponentIn(Input):
    name: Annotated[str, Meta(min_length=1, max_length=50, pattern=LINE)]
    percent: Percent
    compound: bool = False

    @property
    def rate(self) -> Decimal:
        """``percent`` as a number."""
        return Decimal(self.percent)


class TaxRateCreate(Input):
    name: ShortName
    components: Annotated[list[TaxComponentIn], Meta(min_length=1, max_length=4)]


class TaxRateUpdate(Input):
    name: ShortName | UnsetType = UNSET
    components: Annotated[list[TaxComponentIn], Meta(min_length=1, max_length=4)] | UnsetType = UNSET


class TaxComponentOut(msgspec.Struct):
    name: str
    percent: Decimal
    compound: bool


class TaxRateOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    status: str
    components: list[TaxComponentOut]
    effective_percent: Decimal
    created_at: datetime


class RevenueAccountCreate(Input):
    name: ShortName
    code: AccountCode
    tax_rate_id: uuid.UUID | None = None
    liability: bool = False


class RevenueAccountUpdate(Input):
    name: ShortName | UnsetType = UNSET
    code: AccountCode | UnsetType = UNSET
    tax_rate_id: uuid.UUID | UnsetType | None = UNSET


class RevenueAccountOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    name: str
    code: str
    liability: bool
    tax_rate_id: uuid.UUID | None
    active: bool


class TaxPolicyEntry(Input):
    revenue_account_id: uuid.UUID
    tax_rate_id: uuid.UUID


class TaxPolicy(Input):
    """Which tax rate the location charges per revenue account; accounts not listed use their own.
    The whole policy is replaced at once: ``{}`` clears it."""

    entries: list[TaxPolicyEntry] = []


# Included time: hours to the minute (a whole number of minutes is a multiple of 0.05 hours), days
# whole; either above 0 and at most 10000.
HOURS = r"^(?:10000(?:\.00?)?|[1-9][0-9]{0,3}(?:\.[0-9][05]?)?|0?\.(?:05|[1-9][05]?))$"
DAYS = r"^(?:10000|[1-9][0-9]{0,3})$"


class IncludedTimeIn(Input):
    """Booking time a plan includes each period: ``hours`` (whole minutes, e.g. 7.5) of any
    resource, or ``days`` (whole) of resources with a day rate; of one ``resource_kind``, or of any
    when it is left out."""

    unit: Literal["hours", "days"]
    quantity: Annotated[
        str,
        Meta(pattern=HOURS, description='above 0 and at most 10000: hours to the minute ("7.5"), or whole days ("3")'),
    ]
    resource_kind: ResourceKind | None = None

    json_schema: ClassVar[dict[str, Any]] = {
        "anyOf": [
            {"properties": {"unit": {"const": "hours"}}},
            {"properties": {"unit": {"const": "days"}, "quantity": {"pattern": DAYS}}},
        ]
    }

    def __post_init__(self) -> None:
        if self.unit == "days" and not re.search(DAYS, self.quantity):
            raise ValueError(f"included_time.quantity: {self.quantity} is not a whole number of days")

    @property
    def stored(self) -> dict[str, object]:
        """As the plan keeps it: hours as minutes."""
        quantity = Decimal(self.quantity)
        whole = quantity * 60 if self.unit == "hours" else quantity
        return {"unit": self.unit, "resource_kind": self.resource_kind, "quantity": int(whole)}


IncludedTime = Annotated[list[IncludedTimeIn], Meta(max_length=10)]


def check_included_time(entries: list[IncludedTimeIn] | UnsetType) -> None:
    if isinstance(entries, UnsetType):
        return
    seen = set()
    for entry in entries:
        if (entry.unit, entry.resource_kind) in seen:
            kind = entry.resource_kind or "any resource"
            raise beyond_schema("included_time", f"{entry.unit} of {kind} appear twice; give one quantity")
        seen.add((entry.unit, entry.resource_kind))


class IncludedTimeOut(msgspec.Struct):
    unit: str
    quantity: Decimal  # hours (to the minute) or days
    resource_kind: str | None


class PlanCreate(Input):
    name: Name
    currency: CurrencyCode
    price: Amount
    revenue_account_id: uuid.UUID | None = None
    interval_months: Annotated[int, Meta(ge=1, le=12)] = 1
    prorate: bool = True
    included_credit: Amount = 0
    included_time: IncludedTime = []
    deposit: Amount = 0

    def __post_init__(self) -> None:
        check_currency(self.currency, "currency")
        check_included_time(self.included_time)


class PlanUpdate(Input):
    name: Name | UnsetType = UNSET
    price: Amount | UnsetType = UNSET
    revenue_account_id: uuid.UUID | UnsetType = UNSET
    prorate: bool | UnsetType = UNSET
    included_credit: Amount | UnsetType = UNSET
    included_time: IncludedTime | UnsetType = UNSET
    deposit: Amount | UnsetType = UNSET

    def __post_init__(self) -> None:
        check_included_time(self.included_time)


class PlanOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    currency: str
    price: int
    interval_months: int
    revenue_account_id: uuid.UUID
    prorate: bool
    included_credit: int
    included_time: list[IncludedTimeOut]
    deposit: int
    active: bool
    created_at: datetime


class DiscountCreate(Input):
    name: Name
    kind: Literal["percent", "fixed"]
    percent: PositivePercent | None = None
    amount: Annotated[int, Meta(gt=0, le=MAX_AMOUNT)] | None = None
    currency: CurrencyCode | None = None

    json_schema: ClassVar[dict[str, Any]] = {
        "oneOf": [
            {
                "properties": {
                    "kind": {"const": "percent"},
                    "percent": {"type": "string"},
                    "amount": {"type": "null"},
                    "currency": {"type": "null"},
                },
                "required": ["percent"],
            },
            {
                "properties": {
                    "kind": {"const": "fixed"},
                    "percent": {"type": "null"},
                    "amount": {"type": "integer"},
                    "currency": {"type": "string"},
                },
                "required": ["amount", "currency"],
            },
        ]
    }

    def __post_init__(self) -> None:
        if self.kind == "percent" and (self.percent is None or self.amount is not None or self.currency is not None):
            raise ValueError("a percent discount takes 'percent' (e.g. 12.5) and no amount or currency")
        if self.kind == "fixed" and (self.amount is None or self.currency is None or self.percent is not None):
            raise ValueError("a fixed discount takes 'amount' (minor units) and 'currency', and no percent")
        check_currency(self.currency, "currency")


class DiscountUpdate(Input):
    name: Name | UnsetType = UNSET


class DiscountOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    kind: str
    percent: Decimal | None
    amount: int | None
    currency: str | None
    active: bool
