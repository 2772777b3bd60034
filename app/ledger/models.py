"""The ledger: money received, credited, written off or refunded, and how it was applied.

Every change to what a customer owes is an ``Allocation`` row moving an amount from a source
(a payment, a credit note, a write-off) to a target (an invoice, a refund). An invoice's amount due
is its total less what was allocated to it; a source's unallocated remainder is customer credit.
Rows are only ever added."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.capture import audited
from app.db.base import Base, TenantOwned
from app.invoice.models import LineTaxColumns

PAYMENT_METHODS = ("bank_transfer", "cash", "cheque", "card_terminal", "card", "direct_debit")


def _company_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "company_id"], ["companies.tenant_id", "companies.id"])


@audited("payment")
class Payment(TenantOwned, Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint(f"method IN {PAYMENT_METHODS}", name="method"),
        _company_fk(),
        Index("ix_payments_tenant_id_company_id", "tenant_id", "company_id"),
    )

    company_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(20))
    paid_on: Mapped[date]
    reference: Mapped[str | None] = mapped_column(String(100))


@audited("refund")
class Refund(TenantOwned, Base):
    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint(f"method IN {PAYMENT_METHODS}", name="method"),
        _company_fk(),
    )

    company_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(20))
    refunded_on: Mapped[date]
    reference: Mapped[str | None] = mapped_column(String(100))


@audited("write_off")
class WriteOff(TenantOwned, Base):
    """What is given up on an invoice (a bad debt)."""

    __tablename__ = "write_offs"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
        _company_fk(),
    )

    company_id: Mapped[uuid.UUID]
    invoice_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    written_off_on: Mapped[date]
    reason: Mapped[str | None] = mapped_column(Text)


@audited("credit_note")
class CreditNote(TenantOwned, Base):
    """Takes back all or part of an invoice; what is not allocated is the customer's credit."""

    __tablename__ = "credit_notes"
    __table_args__ = (
        CheckConstraint("status IN ('issued', 'void')", name="status"),
        CheckConstraint("tax_mode IN ('inclusive', 'exclusive')", name="tax_mode"),
        CheckConstraint("total = subtotal + tax_total AND total > 0", name="total"),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
        _company_fk(),
        Index(
            "uq_credit_notes_tenant_id_number",
            "tenant_id",
            "number",
            unique=True,
            postgresql_where="number IS NOT NULL",
        ),
    )

    location_id: Mapped[uuid.UUID]
    company_id: Mapped[uuid.UUID]
    invoice_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(10), default="issued")
    number: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    tax_mode: Mapped[str] = mapped_column(String(10))
    issue_date: Mapped[date]
    subtotal: Mapped[int] = mapped_column(BigInteger)
    tax_total: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)


class CreditNoteLine(TenantOwned, Base):
    __tablename__ = "credit_note_lines"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "credit_note_id"], ["credit_notes.tenant_id", "credit_notes.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "invoice_line_id"], ["invoice_lines.tenant_id", "invoice_lines.id"]),
        ForeignKeyConstraint(["tenant_id", "tax_rate_id"], ["tax_rates.tenant_id", "tax_rates.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "revenue_account_id"], ["revenue_accounts.tenant_id", "revenue_accounts.id"]
        ),
        Index("ix_credit_note_lines_tenant_id_credit_note_id", "tenant_id", "credit_note_id"),
        Index("ix_credit_note_lines_tenant_id_invoice_line_id", "tenant_id", "invoice_line_id"),
    )

    credit_note_id: Mapped[uuid.UUID]
    invoice_line_id: Mapped[uuid.UUID | None]
    position: Mapped[int] = mapped_column(SmallInteger)
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    unit_amount: Mapped[int] = mapped_column(BigInteger)
    line_amount: Mapped[int] = mapped_column(BigInteger)
    tax_rate_id: Mapped[uuid.UUID]
    tax_amount: Mapped[int] = mapped_column(BigInteger)
    revenue_account_id: Mapped[uuid.UUID]
    explanation: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class CreditNoteLineTax(LineTaxColumns, Base):
    __tablename__ = "credit_note_line_taxes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "line_id"], ["credit_note_lines.tenant_id", "credit_note_lines.id"], ondelete="CASCADE"
        ),
    )


@audited("allocation")
class Allocation(TenantOwned, Base):
    __tablename__ = "allocations"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("num_nonnulls(payment_id, credit_note_id, write_off_id) = 1", name="one_source"),
        CheckConstraint("num_nonnulls(invoice_id, refund_id) = 1", name="one_target"),
        CheckConstraint("write_off_id IS NULL OR invoice_id IS NOT NULL", name="write_off_to_invoice"),
        _company_fk(),
        ForeignKeyConstraint(["tenant_id", "payment_id"], ["payments.tenant_id", "payments.id"]),
        ForeignKeyConstraint(["tenant_id", "credit_note_id"], ["credit_notes.tenant_id", "credit_notes.id"]),
        ForeignKeyConstraint(["tenant_id", "write_off_id"], ["write_offs.tenant_id", "write_offs.id"]),
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
        ForeignKeyConstraint(["tenant_id", "refund_id"], ["refunds.tenant_id", "refunds.id"]),
        Index("ix_allocations_tenant_id_invoice_id", "tenant_id", "invoice_id"),
        Index("ix_allocations_tenant_id_payment_id", "tenant_id", "payment_id"),
        Index("ix_allocations_tenant_id_credit_note_id", "tenant_id", "credit_note_id"),
        Index("ix_allocations_tenant_id_company_id", "tenant_id", "company_id"),
    )

    company_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    allocated_on: Mapped[date]
    payment_id: Mapped[uuid.UUID | None]
    credit_note_id: Mapped[uuid.UUID | None]
    write_off_id: Mapped[uuid.UUID | None]
    invoice_id: Mapped[uuid.UUID | None]
    refund_id: Mapped[uuid.UUID | None]
    # Part of a payment as it came in (paying invoices there and then); a payment's other
    # allocations spend the credit it left.
    with_receipt: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
