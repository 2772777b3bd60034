from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from app.invoice.schemas import LineOut, TaxPartOut
from app.kit.money import MAX_AMOUNT
from app.kit.schema import LINE, LINES, CurrencyCode, Day, Input, beyond_schema, check_currency, check_date

Amount = Annotated[int, Meta(gt=0, le=MAX_AMOUNT, description="minor units of the currency")]
Method = Literal["bank_transfer", "cash", "cheque", "card_terminal"]
Reference = Annotated[str, Meta(max_length=100, pattern=LINE)]
Reason = Annotated[str, Meta(max_length=500, pattern=LINES)]


class AllocationIn(Input):
    invoice_id: uuid.UUID
    amount: Amount


class PaymentCreate(Input):
    """Money received. Without ``allocations`` the company's credit, oldest first (so this payment
    last), pays its open invoices, oldest due first; whatever is left is the customer's credit."""

    company_id: uuid.UUID
    amount: Amount
    currency: CurrencyCode
    method: Method
    paid_on: Day
    reference: Reference | None = None
    allocations: list[AllocationIn] | None = None

    def __post_init__(self) -> None:
        check_currency(self.currency, "currency")
        check_date(self.paid_on, "paid_on")
        invoices = [allocation.invoice_id for allocation in self.allocations or ()]
        if len(set(invoices)) != len(invoices):
            raise beyond_schema("allocations", "one allocation per invoice (an invoice appears twice)")


class AllocationOut(msgspec.Struct):
    id: uuid.UUID
    amount: int
    allocated_on: date
    payment_id: uuid.UUID | None
    credit_note_id: uuid.UUID | None
    write_off_id: uuid.UUID | None
    invoice_id: uuid.UUID | None
    refund_id: uuid.UUID | None


class PaymentOut(msgspec.Struct):
    id: uuid.UUID
    company_id: uuid.UUID
    amount: int
    currency: str
    method: str
    paid_on: date
    reference: str | None
    unallocated: int
    allocations: list[AllocationOut]
    created_at: datetime


class CreditLineIn(Input):
    invoice_line_id: uuid.UUID
    amount: Amount


class CreditNoteCreate(Input):
    """Credit a whole invoice (no ``lines``), or parts of lines. With ``allocate`` (the default)
    the credit pays down the invoice; what is left, or all of it without, is customer credit."""

    lines: list[CreditLineIn] | None = None
    allocate: bool = True
    reason: Reason | None = None


class CreditNoteLineOut(LineOut):
    invoice_line_id: uuid.UUID | None
    explanation: dict[str, Any]
    tax_components: list[TaxPartOut] = []  # as on invoice lines


class CreditNoteOut(msgspec.Struct):
    id: uuid.UUID
    number: str
    status: str
    invoice_id: uuid.UUID | None
    company_id: uuid.UUID
    location_id: uuid.UUID
    currency: str
    tax_mode: str
    issue_date: date
    subtotal: int
    tax_total: int
    total: int
    unallocated: int
    reason: str | None
    lines: list[CreditNoteLineOut]
    tax_by_component: list[TaxPartOut] = []


class RefundCreate(Input):
    """Money paid back out of the customer's credit (oldest credit first)."""

    company_id: uuid.UUID
    amount: Amount
    currency: CurrencyCode
    method: Method
    refunded_on: Day
    reference: Reference | None = None

    def __post_init__(self) -> None:
        check_currency(self.currency, "currency")
        check_date(self.refunded_on, "refunded_on")


class RefundOut(msgspec.Struct):
    id: uuid.UUID
    company_id: uuid.UUID
    amount: int
    currency: str
    method: str
    refunded_on: date
    reference: str | None
    allocations: list[AllocationOut]


class WriteOffCreate(Input):
    reason: Reason | None = None


class WriteOffOut(msgspec.Struct):
    id: uuid.UUID
    invoice_id: uuid.UUID
    amount: int
    written_off_on: date
    reason: str | None


class Balance(msgspec.Struct):
    """What the company owes on open invoices, and the credit it holds, in its currency."""

    company_id: uuid.UUID
    currency: str
    outstanding: int
    credit: int
