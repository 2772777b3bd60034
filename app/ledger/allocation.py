"""Applying money to what is owed: the only code that writes allocation rows.

Callers hold the row locks (``app.ledger.locks``). Every allocation is checked against the
invoice's amount due and the source's unallocated remainder, both computed from the rows
themselves, so an invoice is never overpaid and no payment or credit note is spent twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.integrations.xero import outbox
from app.invoice.models import Invoice
from app.kit.errors import Conflict
from app.ledger.locks import lock_for_allocation
from app.ledger.models import Allocation
from app.ledger.repository import OPEN, LedgerRepository


def status_for(total: int, due: int) -> str:
    """An issued invoice's status follows from what is still due."""
    if due <= 0:
        return "paid"
    return "partially_paid" if due < total else "issued"


async def allocate_to_invoice(
    session: AsyncSession,
    invoice: Invoice,
    amount: int,
    on: date,
    *,
    currency: str,
    payment_id: uuid.UUID | None = None,
    credit_note_id: uuid.UUID | None = None,
    write_off_id: uuid.UUID | None = None,
    due: int | None = None,
    receipt: bool = False,
) -> Allocation:
    """Apply ``amount`` to ``invoice`` (at most what is due on it). ``due``: what is due, when the
    caller has just read it with the invoice locked (saves reading it again). ``receipt``: the
    payment is being received now (it pays the invoice; it does not spend credit it left before)."""
    if invoice.status not in OPEN:
        raise Conflict(f"Invoice {invoice.number or invoice.id} is {invoice.status}; nothing can be applied to it.")
    if currency != invoice.currency:
        raise Conflict(
            f"Invoice {invoice.number or invoice.id} is in {invoice.currency}; {currency} cannot be applied to it."
        )
    if due is None:
        due = (await LedgerRepository(session, invoice.tenant_id).amounts_due([invoice.id]))[invoice.id]
    if not 0 < amount <= due:
        raise Conflict(f"Invoice {invoice.number} has {due} due; {amount} cannot be applied to it.")
    allocation = Allocation(
        tenant_id=invoice.tenant_id,
        company_id=invoice.company_id,
        amount=amount,
        allocated_on=on,
        payment_id=payment_id,
        credit_note_id=credit_note_id,
        write_off_id=write_off_id,
        invoice_id=invoice.id,
        with_receipt=receipt and payment_id is not None,
    )
    session.add(allocation)
    invoice.status = status_for(invoice.total, due - amount)
    invoice.version += 1
    await session.flush()
    await outbox.allocation_made(session, allocation, invoice, receipt=allocation.with_receipt)
    return allocation


async def apply_credit(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    company_id: uuid.UUID,
    invoices: Sequence[Invoice],
    on: date,
    *,
    receiving: uuid.UUID | None = None,
) -> int:
    """Use the company's unallocated payments and credit notes (oldest first) on ``invoices`` (in
    the order given). Returns the amount applied. ``receiving``: a payment coming in now, whose
    allocations are its receipt rather than spent credit."""
    repo = LedgerRepository(session, tenant_id)
    candidates = await repo.credits(company_id)
    if not candidates or not invoices:
        return 0
    await lock_for_allocation(
        session,
        tenant_id,
        invoices=[invoice.id for invoice in invoices],
        payments=[c.id for c in candidates if c.kind == "payment"],
        credit_notes=[c.id for c in candidates if c.kind == "credit_note"],
    )
    usable = await repo.credits(company_id)  # again, now that the rows are locked
    remaining = {credit.id: credit.remaining for credit in usable}
    # Each invoice is allocated to only in its own turn below, so what is due on all of them can
    # be read once, now that they are locked.
    dues = await repo.amounts_due([invoice.id for invoice in invoices if invoice.status in OPEN])
    applied = 0
    for invoice in invoices:
        if invoice.status not in OPEN:
            continue
        due = dues[invoice.id]
        for credit in usable:
            amount = min(due, remaining[credit.id])
            if amount <= 0 or credit.currency != invoice.currency:
                continue
            source = {"payment_id": credit.id} if credit.kind == "payment" else {"credit_note_id": credit.id}
            await allocate_to_invoice(
                session,
                invoice,
                amount,
                on,
                currency=credit.currency,
                due=due,
                receipt=credit.id == receiving,
                **source,
            )
            remaining[credit.id] -= amount
            due -= amount
            applied += amount
            if due == 0:
                break
    return applied
