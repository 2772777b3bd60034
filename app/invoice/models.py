"""Invoices and their lines. Amounts are int minor units in the invoice's currency.

``line_amount`` is the amount as priced: gross when the invoice's prices include tax, net when
they do not; ``tax_amount`` is that line's own rounded tax. Totals are sums of the lines."""

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
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.capture import audited
from app.db.base import Base, TenantOwned

INVOICE_STATUSES = ("draft", "issued", "partially_paid", "paid", "void")


@audited("invoice")
class Invoice(TenantOwned, Base):
    __tablename__ = "invoices"
    tenant_proven_by_parent = True
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'issued', 'partially_paid', 'paid', 'void')", name="status"),
        CheckConstraint("tax_mode IN ('inclusive', 'exclusive')", name="tax_mode"),
        # Issued documents carry a number and a date; a draft voided before issue never had them.
        CheckConstraint(
            "status IN ('draft', 'void') OR (number IS NOT NULL AND issue_date IS NOT NULL)", name="issued_numbered"
        ),
        CheckConstraint("total = subtotal + tax_total", name="total"),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        ForeignKeyConstraint(["tenant_id", "company_id"], ["companies.tenant_id", "companies.id"]),
        # Deferred: a billing run writes its own row last, once it knows what it did.
        ForeignKeyConstraint(
            ["tenant_id", "billing_run_id"],
            ["billing_runs.tenant_id", "billing_runs.id"],
            deferrable=True,
            initially="DEFERRED",
        ),
        Index(
            "uq_invoices_tenant_id_number", "tenant_id", "number", unique=True, postgresql_where="number IS NOT NULL"
        ),
        Index("ix_invoices_tenant_id_company_id", "tenant_id", "company_id"),
    )

    location_id: Mapped[uuid.UUID]
    company_id: Mapped[uuid.UUID]
    billing_run_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(15), default="draft")
    number: Mapped[str | None] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    tax_mode: Mapped[str] = mapped_column(String(10))
    issue_date: Mapped[date | None]
    due_date: Mapped[date | None]
    # Net of tax, tax, and the sum the customer owes; kept equal to the sums of the lines.
    subtotal: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_total: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)


class InvoiceLine(TenantOwned, Base):
    __tablename__ = "invoice_lines"
    tenant_proven_by_parent = True
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "tax_rate_id"], ["tax_rates.tenant_id", "tax_rates.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "revenue_account_id"], ["revenue_accounts.tenant_id", "revenue_accounts.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "membership_id"], ["memberships.tenant_id", "memberships.id"]),
        Index("ix_invoice_lines_tenant_id_invoice_id", "tenant_id", "invoice_id"),
    )

    invoice_id: Mapped[uuid.UUID]
    position: Mapped[int] = mapped_column(SmallInteger)
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    unit_amount: Mapped[int] = mapped_column(BigInteger)
    line_amount: Mapped[int] = mapped_column(BigInteger)
    tax_rate_id: Mapped[uuid.UUID]
    tax_amount: Mapped[int] = mapped_column(BigInteger)
    revenue_account_id: Mapped[uuid.UUID]
    membership_id: Mapped[uuid.UUID | None]
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    # How the line was worked out (plan, period, days, discount), for the operator and the accountant.
    explanation: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class LineTaxColumns:
    """A line's tax split between the components of its rate, for rates of more than one: each
    component as it was charged (name, percentage, compound) and its part of the line's tax,
    the parts adding up to the line's ``tax_amount`` (``app.catalog.tax.tax_parts``)."""

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    line_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    percent: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    compound: Mapped[bool]
    amount: Mapped[int] = mapped_column(BigInteger)


class InvoiceLineTax(LineTaxColumns, Base):
    __tablename__ = "invoice_line_taxes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "line_id"], ["invoice_lines.tenant_id", "invoice_lines.id"], ondelete="CASCADE"
        ),
    )


class InvoiceSequence(Base):
    """The next invoice number of a location. Taken under a row lock at issue, in the issuing
    transaction, so numbers are gap-free: a rolled-back issue gives its number back."""

    __tablename__ = "invoice_sequences"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        CheckConstraint("next_number >= 1", name="next_number"),
        CheckConstraint("kind IN ('invoice', 'credit_note')", name="kind"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    location_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True, default="invoice")
    next_number: Mapped[int] = mapped_column(BigInteger, default=1)
