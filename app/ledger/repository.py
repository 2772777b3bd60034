"""What is owed and what is credit, always computed from the allocation rows."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Subquery,
    Uuid,
    bindparam,
    case,
    cast,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.db import driver
from app.db.repository import TenantRepository
from app.invoice.models import Invoice, LineTaxColumns
from app.ledger.models import Allocation, CreditNote, CreditNoteLine, CreditNoteLineTax, Payment, Refund, WriteOff

OPEN = ("issued", "partially_paid")


@dataclass(frozen=True, slots=True)
class Credit:
    """An unallocated remainder the customer can use: part of a payment or of a credit note."""

    kind: str  # "payment" | "credit_note"
    id: uuid.UUID
    dated: date
    remaining: int
    currency: str


def amount_due() -> ColumnElement[int]:
    """What is still owed on the invoice of the row being selected (nothing on a voided one),
    as a column: total less everything allocated to it, a look-up per invoice."""
    allocated = select(func.coalesce(func.sum(Allocation.amount), 0)).where(
        Allocation.tenant_id == Invoice.tenant_id, Allocation.invoice_id == Invoice.id
    )
    # A sum of bigints is numeric in PostgreSQL: back to an integer of minor units.
    return cast(case((Invoice.status == "void", 0), else_=Invoice.total - allocated.scalar_subquery()), BigInteger)


def balance_columns(tenant_id: Any, company_id: Any) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """(outstanding on open invoices, credit held) of a company, as two columns: each a look-up
    over that company's rows, so a balance costs one statement. ``tenant_id`` and ``company_id``
    are parameters or columns of the enclosing statement."""
    outstanding = select(func.coalesce(func.sum(amount_due()), 0)).where(
        Invoice.tenant_id == tenant_id,
        Invoice.company_id == company_id,
        or_(*(Invoice.status == status for status in OPEN)),  # no expanding IN: the driver runs it as compiled
    )
    paid = select(func.coalesce(func.sum(Allocation.amount), 0)).where(
        Allocation.tenant_id == Payment.tenant_id, Allocation.payment_id == Payment.id
    )
    unspent = select(func.coalesce(func.sum(func.greatest(Payment.amount - paid.scalar_subquery(), 0)), 0)).where(
        Payment.tenant_id == tenant_id, Payment.company_id == company_id
    )
    used = select(func.coalesce(func.sum(Allocation.amount), 0)).where(
        Allocation.tenant_id == CreditNote.tenant_id, Allocation.credit_note_id == CreditNote.id
    )
    unused = select(func.coalesce(func.sum(func.greatest(CreditNote.total - used.scalar_subquery(), 0)), 0)).where(
        CreditNote.tenant_id == tenant_id, CreditNote.company_id == company_id, CreditNote.status == "issued"
    )
    # Sums of bigints are numeric in PostgreSQL: back to integers of minor units.
    return (
        cast(outstanding.scalar_subquery(), BigInteger),
        cast(unspent.scalar_subquery() + unused.scalar_subquery(), BigInteger),
    )


@cache
def _owed() -> Select[int, int]:
    tenant_id, company_id = bindparam("tenant_id", type_=Uuid()), bindparam("company_id", type_=Uuid())
    return select(*balance_columns(tenant_id, company_id))


class LedgerRepository:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def _allocated(self, column: InstrumentedAttribute[uuid.UUID | None], *where: ColumnElement[bool]) -> Subquery:
        """Sum of allocations per source or target (``column`` names which)."""
        return (
            select(column, func.sum(Allocation.amount).label("amount"))
            .where(Allocation.tenant_id == self.tenant_id, column.is_not(None), *where)
            .group_by(column)
            .subquery()
        )

    async def amounts_due(self, invoice_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Total less everything allocated to each invoice."""
        if not invoice_ids:
            return {}
        paid = self._allocated(Allocation.invoice_id, Allocation.invoice_id.in_(invoice_ids))
        rows = await self.session.execute(
            select(Invoice.id, Invoice.total - func.coalesce(paid.c.amount, 0))
            .outerjoin(paid, paid.c.invoice_id == Invoice.id)
            .where(Invoice.tenant_id == self.tenant_id, Invoice.id.in_(invoice_ids))
        )
        return {invoice_id: int(due) for invoice_id, due in rows}

    async def open_invoices(self, company_id: uuid.UUID) -> list[uuid.UUID]:
        """The company's invoices with something still owed, oldest due first."""
        statement = (
            select(Invoice.id)
            .where(Invoice.tenant_id == self.tenant_id, Invoice.company_id == company_id, Invoice.status.in_(OPEN))
            .order_by(Invoice.due_date, Invoice.number, Invoice.id)
        )
        return list((await self.session.execute(statement)).scalars())

    def _used(self, column: InstrumentedAttribute[uuid.UUID | None], source: Any) -> ColumnElement[Any]:
        """What has been allocated from one payment or credit note (``column`` names which): a
        look-up per row, never a sum over the tenant's whole ledger."""
        spent = select(func.sum(Allocation.amount)).where(Allocation.tenant_id == self.tenant_id, column == source)
        return func.coalesce(spent.scalar_subquery(), 0)

    async def credits(self, company_id: uuid.UUID) -> list[Credit]:
        """Unallocated remainders of the company's payments and credit notes, oldest first."""
        payments = await self.session.execute(
            select(
                Payment.id,
                Payment.paid_on,
                Payment.amount - self._used(Allocation.payment_id, Payment.id),
                Payment.currency,
            ).where(Payment.tenant_id == self.tenant_id, Payment.company_id == company_id)
        )
        notes = await self.session.execute(
            select(
                CreditNote.id,
                CreditNote.issue_date,
                CreditNote.total - self._used(Allocation.credit_note_id, CreditNote.id),
                CreditNote.currency,
            ).where(
                CreditNote.tenant_id == self.tenant_id,
                CreditNote.company_id == company_id,
                CreditNote.status == "issued",
            )
        )
        # SUM() is numeric in PostgreSQL: money comes back to int minor units here.
        found = [Credit("payment", i, d, int(r), c) for i, d, r, c in payments]
        found += [Credit("credit_note", i, d, int(r), c) for i, d, r, c in notes]
        return sorted((c for c in found if c.remaining > 0), key=lambda c: (c.dated, str(c.id)))

    async def holding_credit(self, company_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these companies have a payment or credit note not used up yet."""
        payments = select(Payment.company_id).where(
            Payment.tenant_id == self.tenant_id,
            Payment.company_id.in_(company_ids),
            Payment.amount > self._used(Allocation.payment_id, Payment.id),
        )
        notes = select(CreditNote.company_id).where(
            CreditNote.tenant_id == self.tenant_id,
            CreditNote.company_id.in_(company_ids),
            CreditNote.status == "issued",
            CreditNote.total > self._used(Allocation.credit_note_id, CreditNote.id),
        )
        return set((await self.session.execute(union(payments, notes))).scalars())

    async def owed(self, company_id: uuid.UUID) -> tuple[int, int]:
        """(outstanding on open invoices, credit held) for a company."""
        [row] = await driver.fetch(self.session, _owed(), {"tenant_id": self.tenant_id, "company_id": company_id})
        return row[0], row[1]

    async def written_off(self, invoice_id: uuid.UUID) -> int:
        statement = select(func.coalesce(func.sum(WriteOff.amount), 0)).where(
            WriteOff.tenant_id == self.tenant_id, WriteOff.invoice_id == invoice_id
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def credited_total(self, invoice_id: uuid.UUID) -> int:
        """What issued credit notes against the invoice add up to."""
        statement = select(func.coalesce(func.sum(CreditNote.total), 0)).where(
            CreditNote.tenant_id == self.tenant_id, CreditNote.invoice_id == invoice_id, CreditNote.status == "issued"
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def allocations(self, **source: uuid.UUID) -> Sequence[Allocation]:
        """The allocations of one source or target, named by its column: ``invoice_id=...``,
        ``payment_id=...``, ``credit_note_id=...`` or ``refund_id=...``."""
        [(column, value)] = source.items()
        statement = (
            select(Allocation)
            .where(Allocation.tenant_id == self.tenant_id, getattr(Allocation, column) == value)
            .order_by(Allocation.id)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def allocations_by_ids(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Allocation]:
        statement = select(Allocation).where(Allocation.tenant_id == self.tenant_id, Allocation.id.in_(ids))
        return {allocation.id: allocation for allocation in await self.session.scalars(statement)}

    async def applied_at_receipt(self, payment_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """What each payment paid of invoices as it came in (the rest became credit)."""
        statement = (
            select(Allocation.payment_id, func.sum(Allocation.amount))
            .where(
                Allocation.tenant_id == self.tenant_id,
                Allocation.payment_id.in_(payment_ids),
                Allocation.with_receipt,
            )
            .group_by(Allocation.payment_id)
        )
        rows = (await self.session.execute(statement)).all()
        return {payment_id: int(amount) for payment_id, amount in rows if payment_id is not None}

    async def allocated_from_credit_notes(self, credit_note_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """What each of these credit notes has been allocated so far (0 when nothing)."""
        if not credit_note_ids:
            return {}
        spent = self._allocated(Allocation.credit_note_id, Allocation.credit_note_id.in_(credit_note_ids))
        rows = await self.session.execute(select(spent.c.credit_note_id, spent.c.amount))
        found = {note_id: int(amount) for note_id, amount in rows}
        return {note_id: found.get(note_id, 0) for note_id in credit_note_ids}

    async def credited_per_line(self, invoice_line_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
        """For each invoice line, what issued credit notes already took back: (amount, tax)."""
        if not invoice_line_ids:
            return {}
        rows = await self.session.execute(
            select(
                CreditNoteLine.invoice_line_id,
                func.sum(CreditNoteLine.line_amount),
                func.sum(CreditNoteLine.tax_amount),
            )
            .join(
                CreditNote,
                (CreditNote.tenant_id == CreditNoteLine.tenant_id) & (CreditNote.id == CreditNoteLine.credit_note_id),
            )
            .where(
                CreditNoteLine.tenant_id == self.tenant_id,
                CreditNoteLine.invoice_line_id.in_(invoice_line_ids),
                CreditNote.status == "issued",
            )
            .group_by(CreditNoteLine.invoice_line_id)
        )
        return {line_id: (int(amount), int(tax)) for line_id, amount, tax in rows if line_id is not None}

    async def credited_taxes_per_line(self, invoice_line_ids: Sequence[uuid.UUID]) -> dict[tuple[uuid.UUID, int], int]:
        """For each invoice line and component of its tax: what issued credit notes took back."""
        if not invoice_line_ids:
            return {}
        rows = await self.session.execute(
            select(CreditNoteLine.invoice_line_id, CreditNoteLineTax.position, func.sum(CreditNoteLineTax.amount))
            .join(
                CreditNoteLine,
                (CreditNoteLine.tenant_id == CreditNoteLineTax.tenant_id)
                & (CreditNoteLine.id == CreditNoteLineTax.line_id),
            )
            .join(
                CreditNote,
                (CreditNote.tenant_id == CreditNoteLine.tenant_id) & (CreditNote.id == CreditNoteLine.credit_note_id),
            )
            .where(
                CreditNoteLineTax.tenant_id == self.tenant_id,
                CreditNoteLine.invoice_line_id.in_(invoice_line_ids),
                CreditNote.status == "issued",
            )
            .group_by(CreditNoteLine.invoice_line_id, CreditNoteLineTax.position)
        )
        return {(line_id, position): int(amount) for line_id, position, amount in rows if line_id is not None}


class PaymentRepository(TenantRepository[Payment]):
    model = Payment


class RefundRepository(TenantRepository[Refund]):
    model = Refund


class WriteOffRepository(TenantRepository[WriteOff]):
    model = WriteOff


class CreditNoteRepository(TenantRepository[CreditNote]):
    model = CreditNote

    async def lines(self, credit_note_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[CreditNoteLine]]:
        """The lines of each of these credit notes, in position order."""
        found: dict[uuid.UUID, list[CreditNoteLine]] = {note_id: [] for note_id in credit_note_ids}
        if not credit_note_ids:
            return found
        statement = (
            select(CreditNoteLine)
            .where(CreditNoteLine.tenant_id == self.tenant_id, CreditNoteLine.credit_note_id.in_(credit_note_ids))
            .order_by(CreditNoteLine.credit_note_id, CreditNoteLine.position)
        )
        for line in (await self.session.execute(statement)).scalars():
            found[line.credit_note_id].append(line)
        return found

    async def taxes(self, line_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[CreditNoteLineTax]]:
        """The tax parts of these lines (those taxed at a rate of several components), in order."""
        return await tax_parts_of(self.session, CreditNoteLineTax, self.tenant_id, line_ids)


T = TypeVar("T", bound=LineTaxColumns)


async def tax_parts_of(
    session: AsyncSession, model: type[T], tenant_id: uuid.UUID, line_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[T]]:
    """The tax parts of invoice or credit-note lines (``model`` says which), by line, in order."""
    found: dict[uuid.UUID, list[T]] = defaultdict(list)
    if not line_ids:
        return found
    statement = (
        select(model)
        .where(model.tenant_id == tenant_id, model.line_id.in_(line_ids))
        .order_by(model.line_id, model.position)
    )
    for part in (await session.execute(statement)).scalars():
        found[part.line_id].append(part)
    return found
