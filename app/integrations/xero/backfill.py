"""A location's earlier documents, sent on request: what was issued, paid, credited or refunded
before the location was mapped to its Xero organisation, from a date the operator picks.

Each document is noted in the outbox as if it had just happened, and the drain sends them in
dependency order; credit spent from that date on goes with the earlier credit note or payment it
came from. What is already on its way to the organisation (or there) is left as it is, so asking
twice sends nothing twice.

Which organisation a document belongs to follows the outbox: an invoice or credit note goes
with its location, money applied to an invoice with the invoice, credit a payment left over with
the payer's home location, and a refund with the credit it pays back.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from app.auth.principal import Operator
from app.company.models import Company
from app.integrations.xero.connections import get_connection
from app.integrations.xero.mapping import location_settings
from app.integrations.xero.models import XeroDocument
from app.integrations.xero.outbox import note
from app.invoice.models import Invoice
from app.kit.errors import Conflict
from app.ledger.models import Allocation, CreditNote, Payment


async def send_since(session: AsyncSession, operator: Operator, location_id: uuid.UUID, since: date) -> dict[str, int]:
    """Note every document of the location dated ``since`` or later (and the earlier credit they
    spend) that is not yet on its way to the organisation: not sent, nor waiting or refused.
    Returns how many were noted, by kind (contacts included)."""
    settings = await location_settings(session, operator, location_id)
    connection = await get_connection(session, operator, settings.connection_id)
    if connection.status == "disconnected":
        raise Conflict(f"{connection.name} is disconnected; reconnect it before sending documents to it.")
    tenant_id, connection_id = operator.tenant_id, connection.id

    def held(kind: str) -> Select[uuid.UUID]:
        """What is already on its way to this organisation (or there), of this kind."""
        return select(XeroDocument.object_id).where(
            XeroDocument.tenant_id == tenant_id, XeroDocument.connection_id == connection_id, XeroDocument.kind == kind
        )

    ours = (Invoice.tenant_id == tenant_id, Invoice.location_id == location_id, Invoice.number.is_not(None))
    issued = (*ours, Invoice.issue_date >= since)
    moved = select(Allocation.id).where(Allocation.tenant_id == tenant_id, Allocation.allocated_on >= since)
    # Money on an invoice goes where the invoice is: one of this location sent now, or one the
    # organisation has. Money received with an invoice, and a write-off, is a payment of it.
    on_ours = Allocation.invoice_id.in_(
        select(Invoice.id).where(*ours, or_(Invoice.issue_date >= since, Invoice.id.in_(held("invoice"))))
    )
    receipt = (Allocation.with_receipt & Allocation.payment_id.is_not(None)) | Allocation.write_off_id.is_not(None)
    # Credit spent from the day on (applied to those invoices, or refunded) goes with the credit
    # it spends, whenever that arose: a credit note of the location, or what a payment of one of
    # its billing accounts left over (unless another organisation holds that already).
    spent = select(Allocation.credit_note_id, Allocation.payment_id).where(
        Allocation.tenant_id == tenant_id,
        Allocation.allocated_on >= since,
        or_(on_ours & ~receipt, Allocation.refund_id.is_not(None)),
    )
    credited = (
        CreditNote.tenant_id == tenant_id,
        CreditNote.location_id == location_id,
        or_(CreditNote.issue_date >= since, CreditNote.id.in_(spent.with_only_columns(Allocation.credit_note_id))),
    )
    paid_at_once = (
        select(func.coalesce(func.sum(Allocation.amount), 0))
        .where(Allocation.tenant_id == Payment.tenant_id, Allocation.payment_id == Payment.id, Allocation.with_receipt)
        .scalar_subquery()
    )
    held_elsewhere = select(XeroDocument.object_id).where(
        XeroDocument.tenant_id == tenant_id,
        XeroDocument.connection_id != connection_id,
        XeroDocument.kind == "overpayment",
    )
    left_over = (
        Payment.tenant_id == tenant_id,
        Company.home_location_id == location_id,
        Payment.amount > paid_at_once,
        or_(Payment.paid_on >= since, Payment.id.in_(spent.with_only_columns(Allocation.payment_id))),
        Payment.id.not_in(held_elsewhere),
    )
    with_company = (Company.tenant_id == Payment.tenant_id) & (Company.id == Payment.company_id)
    from_ours = or_(
        Allocation.credit_note_id.in_(select(CreditNote.id).where(*credited)),
        Allocation.credit_note_id.in_(held("credit_note")),
        Allocation.payment_id.in_(select(Payment.id).join(Company, with_company).where(*left_over)),
        Allocation.payment_id.in_(held("overpayment")),
    )

    companies: set[uuid.UUID] = set()

    async def noted(kind: str, statement: Executable) -> int:
        rows = (await session.execute(statement)).all()
        companies.update(row[1] for row in rows if len(row) > 1)
        return await note(session, tenant_id, connection_id, kind, *(row[0] for row in rows), changed=False)

    sent = {
        "invoice": await noted("invoice", select(Invoice.id, Invoice.company_id).where(*issued)),
        "credit_note": await noted("credit_note", select(CreditNote.id, CreditNote.company_id).where(*credited)),
        "overpayment": await noted(
            "overpayment", select(Payment.id, Payment.company_id).join(Company, with_company).where(*left_over)
        ),
        "payment": await noted("payment", moved.where(on_ours, receipt)),
        # credit from elsewhere is noted too: the drain refuses it, saying where the credit is
        "allocation": await noted("allocation", moved.where(on_ours, ~receipt)),
        "refund": await noted("refund", moved.where(Allocation.refund_id.is_not(None), from_ours)),
    }
    sent["contact"] = await note(session, tenant_id, connection_id, "contact", *companies, changed=False)
    return sent
