from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from app.kit.money import MAX_AMOUNT
from app.kit.schema import LINE, CurrencyCode, Input, Name, check_currency, check_percent

Amount = Annotated[int, Meta(ge=0, le=MAX_AMOUNT, description="minor units of the currency")]
ShortName = Annotated[str, Meta(min_length=1, max_length=100, pattern=LINE)]
AccountCode = Annotated[str, Meta(pattern=r"^[A-Za-z0-9._-]{1,20}$")]


class TaxComponentIn(Input):
    name: Annotated[str, Meta(min_length=1, max_length=50, pattern=LINE)]
    percent: Decimal
    compound: bool = False

    def __post_init__(self) -> None:
        check_percent(self.percent, "percent", allow_zero=True)


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


class PlanCreate(Input):
    name: Name
    currency: CurrencyCode
    price: Amount
    revenue_account_id: uuid.UUID | None = None
    interval_months: Annotated[int, Meta(ge=1, le=12)] = 1
    prorate: bool = True
    included_credit: Amount = 0
    deposit: Amount = 0

    def __post_init__(self) -> None:
        check_currency(self.currency, "currency")


class PlanUpdate(Input):
    name: Name | UnsetType = UNSET
    price: Amount | UnsetType = UNSET
    revenue_account_id: uuid.UUID | UnsetType = UNSET
    prorate: bool | UnsetType = UNSET
    included_credit: Amount | UnsetType = UNSET
    deposit: Amount | UnsetType = UNSET


class PlanOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    currency: str
    price: int
    interval_months: int
    revenue_account_id: uuid.UUID
    prorate: bool
    included_credit: int
    deposit: int
    active: bool
    created_at: datetime


class DiscountCreate(Input):
    name: Name
    kind: Literal["percent", "fixed"]
    percent: Decimal | None = None
    amount: Annotated[int, Meta(gt=0, le=MAX_AMOUNT)] | None = None
    currency: CurrencyCode | None = None

    def __post_init__(self) -> None:
        if self.kind == "percent" and (self.percent is None or self.amount is not None or self.currency is not None):
            raise ValueError("a percent discount takes 'percent' (e.g. 12.5) and no amount or currency")
        if self.kind == "fixed" and (self.amount is None or self.currency is None or self.percent is not None):
            raise ValueError("a fixed discount takes 'amount' (minor units) and 'currency', and no percent")
        check_currency(self.currency, "currency")
        if self.percent is not None:
            check_percent(self.percent, "percent", allow_zero=False)


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
