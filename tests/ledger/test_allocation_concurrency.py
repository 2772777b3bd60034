"""Credit (a credit note, or money paid ahead) spent by two transactions at once, on committed
data and separate connections (two requests, or a request and a worker): what one spends, the
other cannot spend again."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select, text

from app.auth.principal import Operator
from app.billing.engine import bill_location
from app.db.engine import bind_tenant
from app.invoice.models import Invoice
from app.invoice.service import issue_invoice
from app.ledger.allocation import apply_credit
from app.ledger.models import Allocation
from app.ledger.schemas import CreditNoteCreate, PaymentCreate
from app.ledger.service import credit_invoice, record_payment
from app.state import AppState
from tests.support.worlds import make_billing, open_tenant

NOVEMBER, MONTH = 40645, 26250  # the November invoice credited, then December's and January's


async def _setup(state: AppState, credit: str) -> tuple[Operator, uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]:
    """A customer holding credit worth all of November (``credit``: a credit note for it, or a
    payment nothing was allocated to), with December and January open."""
    async with state.sessionmaker() as session, session.begin():
        operator, location = await open_tenant(session, state)
        _, _, _, company, _, _, november = await make_billing(session, state, operator, location)
        await issue_invoice(session, operator, november.id, state.clock)
        months = []
        for period in (date(2026, 12, 1), date(2027, 1, 1)):
            run = await bill_location(
                session,
                operator.tenant_id,
                location,
                period,
                started_by="test",
                issue_invoices=False,
                clock=state.clock,
            )
            months.append((await issue_invoice(session, operator, run.invoices[0].id, state.clock)).id)
        if credit == "credit_note":
            note = await credit_invoice(
                session, operator, november.id, CreditNoteCreate(allocate=False), date(2026, 12, 5)
            )
            held = note.id
        else:
            payment = await record_payment(
                session,
                operator,
                PaymentCreate(
                    company_id=company.id,
                    amount=NOVEMBER,
                    currency="GBP",
                    method="bank_transfer",
                    paid_on=date(2026, 12, 5),
                    allocations=[],
                ),
            )
            held = payment.id
    return operator, company.id, held, months[0], months[1]


@pytest.mark.parametrize("credit", ["credit_note", "payment"])
async def test_credit_spent_in_two_transactions_at_once_is_spent_once(live: AppState, credit: str) -> None:
    operator, company_id, held_id, december_id, january_id = await _setup(live, credit)
    spent, commit = asyncio.Event(), asyncio.Event()

    async def spend(invoice_id: uuid.UUID, *, hold: bool) -> int:
        async with live.sessionmaker() as session, session.begin():
            await bind_tenant(session, operator.tenant_id)
            invoice = await session.get_one(Invoice, (operator.tenant_id, invoice_id))
            applied = await apply_credit(session, operator.tenant_id, company_id, [invoice], date(2026, 12, 6))
            if hold:  # spent, but not committed until told
                spent.set()
                await commit.wait()
            return applied

    first = asyncio.create_task(spend(december_id, hold=True))
    await asyncio.wait_for(spent.wait(), timeout=30)
    second = asyncio.create_task(spend(january_id, hold=False))
    try:
        # The second waits for the first's lock on the credit, rather than spending what the first
        # has not committed yet: seen waiting in PostgreSQL, not merely not done after a while.
        deadline = asyncio.get_running_loop().time() + 30
        while not await _waiting_for_a_lock(live):
            assert not second.done(), "the second spent the credit without waiting for the first"
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
        assert not second.done()
    finally:
        commit.set()
    assert await first == MONTH
    assert await second == NOVEMBER - MONTH
    async with live.sessionmaker() as session, session.begin():
        await bind_tenant(session, operator.tenant_id)
        source = Allocation.credit_note_id if credit == "credit_note" else Allocation.payment_id
        paid = await session.scalar(select(func.sum(Allocation.amount)).where(source == held_id))
    assert paid == NOVEMBER


async def _waiting_for_a_lock(state: AppState) -> bool:
    """Whether some transaction waits for a lock another holds (pg_locks shows every session's)."""
    async with state.engine.connect() as connection:
        waiting = await connection.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
    return bool(waiting)
