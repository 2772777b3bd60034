from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from app.kit.schema import LINES, Input


class TaxPartOut(msgspec.Struct):
    """One component's part of a line's tax (``amount``, minor units), as it was charged."""

    name: str
    percent: Decimal
    compound: bool
    amount: int


class LineOut(msgspec.Struct):
    """The fields an invoice line and a credit note line share, first in both (in this order)."""

    id: uuid.UUID
    position: int
    description: str
    quantity: Decimal
    unit_amount: int
    line_amount: int
    tax_rate_id: uuid.UUID
    tax_amount: int
    revenue_account_id: uuid.UUID


class InvoiceLineOut(LineOut):
    """``tax_components``: the line's tax split between the components of its rate (a rate of
    several, e.g. GST and PST), adding up to ``tax_amount``; empty for a rate of one."""

    membership_id: uuid.UUID | None
    period_start: date | None
    period_end: date | None
    explanation: dict[str, Any]
    tax_components: list[TaxPartOut] = []


class InvoiceOut(msgspec.Struct):
    """Money as integer minor units of ``currency``; ``line_amount`` is gross when ``tax_mode`` is
    inclusive. ``lines`` is filled on single-invoice reads."""

    id: uuid.UUID
    status: str
    number: str | None
    location_id: uuid.UUID
    company_id: uuid.UUID
    billing_run_id: uuid.UUID | None
    currency: str
    tax_mode: str
    issue_date: date | None
    due_date: date | None
    subtotal: int
    tax_total: int
    total: int
    created_at: datetime
    amount_due: int | None = None
    # Each component's part of the tax over all the lines (rates of several components only).
    tax_by_component: list[TaxPartOut] | None = None
    lines: list[InvoiceLineOut] | None = None


class VoidRequest(Input):
    """Why the invoice is voided: kept in the audit trail."""

    reason: Annotated[str, Meta(max_length=500, pattern=LINES)] | None = None
