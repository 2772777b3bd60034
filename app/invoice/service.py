"""Invoices: read, issue (numbered at that moment), void. Issued invoices are never edited."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.capture import set_actor
from app.auth.principal import Operator, actor_label
from app.billing.models import BillingItem
from app.booking.models import Booking
from app.company.repository import CompanyRepository
from app.db import driver
from app.fee.models import Fee
from app.integrations.xero import outbox
from app.invoice.models import Invoice, InvoiceLine, InvoiceLineTax
from app.invoice.numbering import render, take_number
from app.invoice.repository import InvoiceRepository, page_with_due
from app.kit.clock import Clock, local_today
from app.kit.errors import Conflict, NotFound
from app.kit.pagination import PageRequest
from app.ledger.allocation import apply_credit
from app.ledger.repository import LedgerRepository
from app.location.models import Location
from app.location.repository import LocationRepository


async def list_invoices(
    db: driver.Target,
    operator: Operator,
    page: PageRequest,
    *,
    status: str | None = None,
    company_id: uuid.UUID | None = None,
    billing_run_id: uuid.UUID | None = None,
) -> list[asyncpg.Record]:
    """A page of the invoices the operator may see, each with what is still due on it (as
    ``amount_due``), read in one statement."""
    return await page_with_due(
        db,
        operator.tenant_id,
        page,
        operator.location_ids,
        status=status,
        company_id=company_id,
        billing_run_id=billing_run_id,
    )


async def get_invoice(
    session: AsyncSession, operator: Operator, invoice_id: uuid.UUID, *, for_update: bool = False
) -> Invoice:
    invoice = await InvoiceRepository(session, operator.tenant_id).visible_one(
        invoice_id, operator.location_ids, for_update=for_update
    )
    if invoice is None:
        raise NotFound("No such invoice.")
    return invoice


async def amounts_due(session: AsyncSession, tenant_id: uuid.UUID, invoices: Sequence[Invoice]) -> dict[uuid.UUID, int]:
    """What is still owed on each invoice (nothing on a voided one)."""
    due = await LedgerRepository(session, tenant_id).amounts_due([invoice.id for invoice in invoices])
    return {invoice.id: 0 if invoice.status == "void" else due[invoice.id] for invoice in invoices}


async def invoice_lines(session: AsyncSession, invoice: Invoice) -> list[InvoiceLine]:
    """The invoice's lines, in position order."""
    return (await InvoiceRepository(session, invoice.tenant_id).lines([invoice.id])).get(invoice.id, [])


async def line_taxes(
    session: AsyncSession, tenant_id: uuid.UUID, lines: Sequence[InvoiceLine]
) -> dict[uuid.UUID, list[InvoiceLineTax]]:
    """The tax parts of the lines taxed at a rate of several components, by line id."""
    return await InvoiceRepository(session, tenant_id).taxes([line.id for line in lines])


@dataclass(frozen=True, slots=True)
class Terms:
    """What issuing gives a draft: its number and its dates."""

    number: str
    issue_date: date
    due_date: date


def terms_of_issue(location: Location, payment_terms_days: int, number: int, issued: date) -> Terms:
    """Dated ``issued`` (today where the location is); due after the customer's payment terms."""
    return Terms(render(location.invoice_number_template, number), issued, issued + timedelta(days=payment_terms_days))


def status_on_issue(total: int) -> str:
    return "paid" if total == 0 else "issued"  # nothing to pay, as Xero shows it


async def issue(session: AsyncSession, tenant_id: uuid.UUID, invoice: Invoice, clock: Clock) -> Invoice:
    """Number and date a draft (locked by the caller); credit the customer already holds pays it
    straight away."""
    if invoice.status != "draft":
        raise Conflict(f"Only a draft can be issued; this invoice is {invoice.status}.")
    location = await LocationRepository(session, tenant_id).get(invoice.location_id)
    company = await CompanyRepository(session, tenant_id).get(invoice.company_id)
    assert location is not None
    assert company is not None
    number = await take_number(session, tenant_id, location.id)
    terms = terms_of_issue(location, company.payment_terms_days, number, local_today(clock, location.time_zone))
    invoice.number, invoice.issue_date, invoice.due_date = terms.number, terms.issue_date, terms.due_date
    invoice.status = status_on_issue(invoice.total)
    invoice.version += 1
    await session.flush()
    await outbox.invoice_changed(session, invoice)
    await apply_credit(session, tenant_id, invoice.company_id, [invoice], invoice.issue_date)
    return invoice


async def issue_invoice(session: AsyncSession, operator: Operator, invoice_id: uuid.UUID, clock: Clock) -> Invoice:
    invoice = await get_invoice(session, operator, invoice_id, for_update=True)
    return await issue(session, operator.tenant_id, invoice, clock)


async def void_invoice(
    session: AsyncSession, operator: Operator, invoice_id: uuid.UUID, reason: str | None = None
) -> Invoice:
    """Void a draft or an issued invoice with nothing applied to it. Its billed periods are released,
    so the next run bills them again; that is only allowed for a membership's latest billed periods
    (an older period is corrected with a credit note instead, so the ledger never has holes)."""
    invoice = await get_invoice(session, operator, invoice_id, for_update=True)
    if invoice.status not in {"draft", "issued"}:
        raise Conflict(f"An invoice that is {invoice.status.replace('_', ' ')} cannot be voided; credit it instead.")
    ledger = LedgerRepository(session, invoice.tenant_id)
    if await ledger.allocations(invoice_id=invoice.id) or await ledger.credited_total(invoice.id):
        raise Conflict("Payments or credit notes are tied to this invoice; credit it instead of voiding it.")
    line_ids = select(InvoiceLine.id).where(
        InvoiceLine.tenant_id == invoice.tenant_id, InvoiceLine.invoice_id == invoice.id
    )
    mine = (
        await session.execute(
            select(BillingItem.source_id, func.max(BillingItem.period_end))
            .where(BillingItem.tenant_id == invoice.tenant_id, BillingItem.invoice_line_id.in_(line_ids))
            .group_by(BillingItem.source_id)
        )
    ).all()
    for source_id, period_end in mine:
        later = await session.execute(
            select(BillingItem.period_start)
            .where(
                BillingItem.tenant_id == invoice.tenant_id,
                BillingItem.source_id == source_id,
                BillingItem.period_start >= period_end,
            )
            .limit(1)
        )
        if later.first() is not None:
            raise Conflict(
                "Later periods of a membership on this invoice are already billed; issue a credit note instead."
            )
    await session.execute(
        delete(BillingItem).where(BillingItem.tenant_id == invoice.tenant_id, BillingItem.invoice_line_id.in_(line_ids))
    )
    # One-off fees on the invoice wait for the next run again.
    await session.execute(
        update(Fee)
        .where(Fee.tenant_id == invoice.tenant_id, Fee.invoice_line_id.in_(line_ids))
        .values(status="pending", invoice_line_id=None)
    )
    # So do its bookings, with the included credit they used given back.
    await session.execute(
        update(Booking)
        .where(Booking.tenant_id == invoice.tenant_id, Booking.invoice_line_id.in_(line_ids))
        .values(status="confirmed", credit_used=0, time_credit=[], invoice_line_id=None)
    )
    set_actor(session.sync_session, actor_label(operator), reason)
    invoice.status = "void"
    invoice.version += 1
    await session.flush()
    await outbox.invoice_changed(session, invoice)
    return invoice
