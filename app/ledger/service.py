"""Money movements an operator records: payments, credit notes, refunds, write-offs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Operator
from app.catalog.tax import TaxBook
from app.company.models import Company
from app.company.repository import CompanyRepository
from app.company.service import get_company
from app.integrations.xero import outbox
from app.invoice.models import Invoice, InvoiceLine, InvoiceLineTax
from app.invoice.numbering import render, take_number
from app.invoice.repository import InvoiceRepository
from app.invoice.service import get_invoice, invoice_lines
from app.invoice.totals import totals
from app.kit.errors import Conflict, InvalidInput, NotFound
from app.kit.ids import new_id
from app.kit.money import TaxComponent, line_tax, split_tax
from app.kit.schema import beyond_schema
from app.ledger.allocation import allocate_to_invoice, apply_credit
from app.ledger.locks import lock_for_allocation
from app.ledger.models import Allocation, CreditNote, CreditNoteLine, CreditNoteLineTax, Payment, Refund, WriteOff
from app.ledger.repository import (
    OPEN,
    CreditNoteRepository,
    LedgerRepository,
    PaymentRepository,
    RefundRepository,
)
from app.ledger.schemas import Balance, CreditNoteCreate, PaymentCreate, RefundCreate
from app.location.repository import LocationRepository


async def _company(session: AsyncSession, operator: Operator, company_id: uuid.UUID, currency: str | None) -> Company:
    company = await CompanyRepository(session, operator.tenant_id).visible_one(company_id, operator.location_ids)
    if company is None:
        raise NotFound(f"Company {company_id} does not exist.")
    if currency is not None and currency != company.currency:
        raise Conflict(f"Mismatched currencies: {company.legal_name} is billed in {company.currency}, not {currency}.")
    return company


async def allocations(session: AsyncSession, tenant_id: uuid.UUID, **source: uuid.UUID) -> Sequence[Allocation]:
    """The allocations of one payment, credit note, refund or invoice (``payment_id=...`` etc.)."""
    return await LedgerRepository(session, tenant_id).allocations(**source)


async def credit_note_parts(
    session: AsyncSession, tenant_id: uuid.UUID, credit_note_ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, int], dict[uuid.UUID, list[CreditNoteLine]], dict[uuid.UUID, list[CreditNoteLineTax]]]:
    """For each credit note: what has been allocated from it, and its lines; the tax parts of
    the lines taxed at a rate of several components, by line id."""
    allocated = await LedgerRepository(session, tenant_id).allocated_from_credit_notes(credit_note_ids)
    notes = CreditNoteRepository(session, tenant_id)
    lines = await notes.lines(credit_note_ids)
    taxes = await notes.taxes([line.id for note_lines in lines.values() for line in note_lines])
    return allocated, lines, taxes


# --- payments ---------------------------------------------------------------------------------


async def record_payment(session: AsyncSession, operator: Operator, data: PaymentCreate) -> Payment:
    company = await _company(session, operator, data.company_id, data.currency)
    payment = PaymentRepository(session, operator.tenant_id).add(
        Payment(
            company_id=company.id,
            amount=data.amount,
            currency=data.currency,
            method=data.method,
            paid_on=data.paid_on,
            reference=data.reference,
        )
    )
    await session.flush()
    repo = InvoiceRepository(session, operator.tenant_id)
    if data.allocations is None:
        open_ids = await LedgerRepository(session, operator.tenant_id).open_invoices(company.id)
        await lock_for_allocation(session, operator.tenant_id, invoices=open_ids, payments=[payment.id])
        invoices = await repo.get_many(open_ids)
        await apply_credit(session, operator.tenant_id, company.id, invoices, data.paid_on, receiving=payment.id)
        await _received(session, payment)
        return payment
    if sum(entry.amount for entry in data.allocations) > data.amount:
        raise InvalidInput("The allocations add up to more than the payment.")
    await lock_for_allocation(
        session, operator.tenant_id, invoices=[e.invoice_id for e in data.allocations], payments=[payment.id]
    )
    for entry in data.allocations:
        invoice = await get_invoice(session, operator, entry.invoice_id)
        if invoice.company_id != company.id:
            raise Conflict(f"Invoice {invoice.number or invoice.id} belongs to another company.")
        await allocate_to_invoice(
            session, invoice, entry.amount, data.paid_on, currency=payment.currency, payment_id=payment.id, receipt=True
        )
    await _received(session, payment)
    return payment


async def _received(session: AsyncSession, payment: Payment) -> None:
    """Tell Xero of the credit the payment leaves (its payments of invoices went already)."""
    applied = await LedgerRepository(session, payment.tenant_id).applied_at_receipt([payment.id])
    await outbox.payment_received(session, payment, applied.get(payment.id, 0))


async def get_payment(session: AsyncSession, operator: Operator, payment_id: uuid.UUID) -> Payment:
    payment = await PaymentRepository(session, operator.tenant_id).get(payment_id)
    if payment is None or not await _sees_company(session, operator, payment.company_id):
        raise NotFound("No such payment.")
    return payment


async def _sees_company(session: AsyncSession, operator: Operator, company_id: uuid.UUID) -> bool:
    if operator.location_ids is None:
        return True
    company = await CompanyRepository(session, operator.tenant_id).get(company_id)
    return company is not None and operator.sees_location(company.home_location_id)


# --- credit notes -----------------------------------------------------------------------------


def _left(line: InvoiceLine, credited: dict[uuid.UUID, tuple[int, int]]) -> tuple[int, int]:
    """(amount, tax) of the line that issued credit notes have not taken back yet."""
    amount, tax = credited.get(line.id, (0, 0))
    return line.line_amount - amount, line.tax_amount - tax


def _credit_line(
    line: InvoiceLine, amount: int, tax: int, position: int, credit_note_id: uuid.UUID, whole: bool
) -> CreditNoteLine:
    return CreditNoteLine(
        id=new_id(),
        tenant_id=line.tenant_id,
        credit_note_id=credit_note_id,
        invoice_line_id=line.id,
        position=position,
        description=line.description if whole else f"{line.description} (part)",
        quantity=line.quantity if whole else Decimal(1),
        unit_amount=line.unit_amount if whole else amount,
        line_amount=amount,
        tax_rate_id=line.tax_rate_id,
        tax_amount=tax,
        revenue_account_id=line.revenue_account_id,
        explanation={"credits_line": str(line.id), "whole": whole, "of_amount": line.line_amount},
    )


@dataclass(slots=True)
class _LineTaxes:
    """The tax parts of an invoice's split lines, and what credit notes took back of each."""

    parts: dict[uuid.UUID, list[InvoiceLineTax]]
    credited: dict[tuple[uuid.UUID, int], int]

    def of_credit(self, line: InvoiceLine, tax: int, rest: bool, note_line: CreditNoteLine) -> list[CreditNoteLineTax]:
        """The credit line's tax per component: what is left of each when it takes the rest of
        the line (so line and credits end level per component), else its tax split afresh."""
        parts = self.parts.get(line.id, [])
        components = [TaxComponent(part.name, part.percent, part.compound) for part in parts]
        amounts = (
            [part.amount - self.credited.get((line.id, part.position), 0) for part in parts]
            if rest
            else split_tax(tax, components)
        )
        return [
            CreditNoteLineTax(
                tenant_id=line.tenant_id,
                line_id=note_line.id,
                position=part.position,
                name=part.name,
                percent=part.percent,
                compound=part.compound,
                amount=amount,
            )
            for part, amount in zip(parts, amounts, strict=True)
        ]


async def _plan_credit_lines(
    session: AsyncSession,
    operator: Operator,
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    credited: dict[uuid.UUID, tuple[int, int]],
    data: CreditNoteCreate,
    credit_id: uuid.UUID,
) -> tuple[list[CreditNoteLine], list[CreditNoteLineTax]]:
    planned: list[CreditNoteLine] = []
    taxes: list[CreditNoteLineTax] = []
    by_id = {line.id: line for line in lines}
    line_ids = [line.id for line in lines]
    split = _LineTaxes(
        await InvoiceRepository(session, operator.tenant_id).taxes(line_ids),
        await LedgerRepository(session, operator.tenant_id).credited_taxes_per_line(line_ids),
    )
    if data.lines is None:
        for line in lines:
            amount, tax = _left(line, credited)
            if amount != 0:
                planned.append(_credit_line(line, amount, tax, len(planned) + 1, credit_id, whole=True))
                taxes += split.of_credit(line, tax, True, planned[-1])
    else:
        if len({entry.invoice_line_id for entry in data.lines}) != len(data.lines):
            raise beyond_schema(
                "lines", "each invoice line may appear once in a credit note; give one amount per line."
            )
        book = await TaxBook.load(session, operator.tenant_id)
        for entry in data.lines:
            if entry.invoice_line_id not in by_id:
                raise NotFound(f"Line {entry.invoice_line_id} is not on this invoice.")
            line = by_id[entry.invoice_line_id]
            left, tax_left = _left(line, credited)
            if line.line_amount <= 0 or entry.amount > left:
                raise Conflict(f"At most {max(left, 0)} of '{line.description}' can still be credited.")
            whole = entry.amount == left
            rate = book.rates[line.tax_rate_id].rate
            own = line_tax(entry.amount, rate, inclusive=invoice.tax_mode == "inclusive")
            tax = tax_left if whole else min(own, tax_left)
            planned.append(_credit_line(line, entry.amount, tax, len(planned) + 1, credit_id, whole=whole))
            taxes += split.of_credit(line, tax, whole, planned[-1])
    return planned, taxes


async def credit_invoice(
    session: AsyncSession, operator: Operator, invoice_id: uuid.UUID, data: CreditNoteCreate, today: date
) -> CreditNote:
    """A credit note against an issued invoice: whole, or parts of its lines. A part of a line is
    taxed on its own at the line's rate (as Xero taxes every line), never more than the line's
    tax left; what is left of a line is credited exactly. Nothing written off can be credited
    (it was never paid, so it cannot become credit)."""
    await lock_for_allocation(session, operator.tenant_id, invoices=[invoice_id])
    invoice = await get_invoice(session, operator, invoice_id)
    if invoice.status not in {*OPEN, "paid"}:
        raise Conflict(f"A {invoice.status} invoice cannot be credited.")
    lines = await invoice_lines(session, invoice)
    ledger = LedgerRepository(session, operator.tenant_id)
    credited = await ledger.credited_per_line([line.id for line in lines])
    credit_id = new_id()
    planned, planned_taxes = await _plan_credit_lines(session, operator, invoice, lines, credited, data, credit_id)
    summed = totals(
        ((line.line_amount, line.tax_amount) for line in planned), inclusive=invoice.tax_mode == "inclusive"
    )
    if summed.total <= 0:
        raise Conflict("Nothing is left to credit on this invoice.")
    written_off = await ledger.written_off(invoice.id)
    creditable = invoice.total - await ledger.credited_total(invoice.id) - written_off
    if summed.total > creditable:
        raise Conflict(
            f"At most {max(creditable, 0)} of this invoice can be credited"
            + (f": {written_off} of it was written off, never paid." if written_off else ".")
        )
    location = await LocationRepository(session, operator.tenant_id).get(invoice.location_id)
    assert location is not None
    number = render(
        location.credit_note_number_template,
        await take_number(session, operator.tenant_id, location.id, "credit_note"),
    )
    note = CreditNoteRepository(session, operator.tenant_id).add(
        CreditNote(
            id=credit_id,
            location_id=invoice.location_id,
            company_id=invoice.company_id,
            invoice_id=invoice.id,
            status="issued",
            number=number,
            currency=invoice.currency,
            tax_mode=invoice.tax_mode,
            issue_date=today,
            subtotal=summed.subtotal,
            tax_total=summed.tax_total,
            total=summed.total,
            reason=data.reason,
        )
    )
    await session.flush()
    session.add_all(planned)
    await session.flush()
    session.add_all(planned_taxes)
    await session.flush()
    await outbox.credit_note_issued(session, note)
    if data.allocate and invoice.status in OPEN:
        due = (await ledger.amounts_due([invoice.id]))[invoice.id]
        if due > 0:
            await lock_for_allocation(session, operator.tenant_id, credit_notes=[note.id])
            await allocate_to_invoice(
                session, invoice, min(due, note.total), today, currency=note.currency, credit_note_id=note.id, due=due
            )
    return note


async def get_credit_note(session: AsyncSession, operator: Operator, credit_note_id: uuid.UUID) -> CreditNote:
    note = await CreditNoteRepository(session, operator.tenant_id).visible_one(credit_note_id, operator.location_ids)
    if note is None:
        raise NotFound("No such credit note.")
    return note


# --- refunds, write-offs, balances ------------------------------------------------------------


async def refund(session: AsyncSession, operator: Operator, data: RefundCreate) -> Refund:
    company = await _company(session, operator, data.company_id, data.currency)
    ledger = LedgerRepository(session, operator.tenant_id)
    candidates = await ledger.credits(company.id)
    await lock_for_allocation(
        session,
        operator.tenant_id,
        payments=[c.id for c in candidates if c.kind == "payment"],
        credit_notes=[c.id for c in candidates if c.kind == "credit_note"],
    )
    usable = await ledger.credits(company.id)
    available = sum(credit.remaining for credit in usable)
    if data.amount > available:
        raise Conflict(f"{company.legal_name} holds {available} of credit; {data.amount} cannot be refunded.")
    paid_back = RefundRepository(session, operator.tenant_id).add(
        Refund(
            company_id=company.id,
            amount=data.amount,
            currency=data.currency,
            method=data.method,
            refunded_on=data.refunded_on,
            reference=data.reference,
        )
    )
    await session.flush()
    left = data.amount
    for credit in usable:
        amount = min(left, credit.remaining)
        if amount <= 0:
            break
        paid_from = Allocation(
            tenant_id=operator.tenant_id,
            company_id=company.id,
            amount=amount,
            allocated_on=data.refunded_on,
            refund_id=paid_back.id,
            **({"payment_id": credit.id} if credit.kind == "payment" else {"credit_note_id": credit.id}),
        )
        session.add(paid_from)
        await session.flush()
        await outbox.refund_made(session, paid_from)
        left -= amount
    return paid_back


async def get_refund(session: AsyncSession, operator: Operator, refund_id: uuid.UUID) -> Refund:
    found = await RefundRepository(session, operator.tenant_id).get(refund_id)
    if found is None or not await _sees_company(session, operator, found.company_id):
        raise NotFound("No such refund.")
    return found


async def write_off(
    session: AsyncSession, operator: Operator, invoice_id: uuid.UUID, reason: str | None, today: date
) -> WriteOff:
    """Give up what is still due on an invoice; it then counts as settled."""
    await lock_for_allocation(session, operator.tenant_id, invoices=[invoice_id])
    invoice = await get_invoice(session, operator, invoice_id)
    due = (await LedgerRepository(session, operator.tenant_id).amounts_due([invoice.id]))[invoice.id]
    if invoice.status not in OPEN or due <= 0:
        raise Conflict(f"Invoice {invoice.number or invoice.id} has nothing due to write off.")
    given_up = WriteOff(
        tenant_id=operator.tenant_id,
        company_id=invoice.company_id,
        invoice_id=invoice.id,
        amount=due,
        written_off_on=today,
        reason=reason,
    )
    session.add(given_up)
    await session.flush()
    await allocate_to_invoice(
        session, invoice, due, today, currency=invoice.currency, write_off_id=given_up.id, due=due
    )
    return given_up


async def company_balance(session: AsyncSession, operator: Operator, company_id: uuid.UUID) -> Balance:
    company = await get_company(session, operator, company_id)
    outstanding, credit = await LedgerRepository(session, operator.tenant_id).owed(company.id)
    return Balance(company_id=company.id, currency=company.currency, outstanding=outstanding, credit=credit)


async def apply_company_credit(session: AsyncSession, operator: Operator, company_id: uuid.UUID, today: date) -> int:
    company = await get_company(session, operator, company_id)
    open_ids = await LedgerRepository(session, operator.tenant_id).open_invoices(company.id)
    invoices = await InvoiceRepository(session, operator.tenant_id).get_many(open_ids)
    return await apply_credit(session, operator.tenant_id, company.id, invoices, today)
