"""Properties of the ledger under random sequences of money movements.

Whatever an operator does (pay, allocate, credit parts of invoices, apply credit, refund), in any
order and amount: no invoice gets more than its total, no payment or credit note is spent beyond
its amount, every refund is covered exactly, statuses match what is due, and money stays int."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.billing.engine import bill_location
from app.db.engine import bind_tenant, create_engine
from app.db.provision import APP_ROLE
from app.invoice.service import issue_invoice
from app.kit.clock import Clock
from app.kit.crypto import SecretBox
from app.kit.errors import AppError
from app.kit.providers import Providers
from app.kit.security import Passwords
from app.ledger import service as ledger
from app.ledger.schemas import AllocationIn, CreditLineIn, CreditNoteCreate, PaymentCreate, RefundCreate
from app.settings import Settings
from app.state import AppState
from tests.support.worlds import World, make_world

DAY = date(2026, 12, 15)
amounts = st.integers(min_value=1, max_value=60000)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), amounts, st.booleans(), st.integers(0, 1)),
        st.tuples(st.just("credit"), st.integers(0, 1), st.integers(0, 3), amounts, st.booleans()),
        st.tuples(st.just("refund"), amounts),
        st.tuples(st.just("apply")),
    ),
    min_size=1,
    max_size=12,
)

INVARIANTS = """
SELECT
  (SELECT count(*) FROM invoices i WHERE i.status <> 'draft' AND
     (SELECT coalesce(sum(amount), 0) FROM allocations a WHERE a.invoice_id = i.id) > i.total),
  (SELECT count(*) FROM payments p WHERE
     (SELECT coalesce(sum(amount), 0) FROM allocations a WHERE a.payment_id = p.id) > p.amount),
  (SELECT count(*) FROM credit_notes c WHERE
     (SELECT coalesce(sum(amount), 0) FROM allocations a WHERE a.credit_note_id = c.id) > c.total),
  (SELECT count(*) FROM refunds r WHERE
     (SELECT coalesce(sum(amount), 0) FROM allocations a WHERE a.refund_id = r.id) <> r.amount),
  (SELECT count(*) FROM invoices i WHERE i.status IN ('issued', 'partially_paid', 'paid') AND i.status <>
     CASE WHEN i.total - (SELECT coalesce(sum(amount), 0) FROM allocations a WHERE a.invoice_id = i.id) <= 0
          THEN 'paid'
          WHEN (SELECT coalesce(sum(amount), 0) FROM allocations a WHERE a.invoice_id = i.id) > 0
          THEN 'partially_paid' ELSE 'issued' END)
"""


async def _operate(session: AsyncSession, world: World, invoices: list[Any], op: tuple[Any, ...]) -> None:
    operator = world.operator
    kind = op[0]
    if kind == "pay":
        _, amount, explicit, target = op
        allocations = [AllocationIn(invoice_id=invoices[target].id, amount=amount)] if explicit else None
        data = PaymentCreate(
            company_id=world.company.id,
            amount=amount,
            currency="GBP",
            method="bank_transfer",
            paid_on=DAY,
            allocations=allocations,
        )
        await ledger.record_payment(session, operator, data)
    elif kind == "credit":
        _, target, line_index, amount, allocate = op
        lines = await _lines(session, world, invoices[target].id)
        line = lines[line_index % len(lines)]
        request = CreditNoteCreate(lines=[CreditLineIn(invoice_line_id=line, amount=amount)], allocate=allocate)
        await ledger.credit_invoice(session, operator, invoices[target].id, request, DAY)
    elif kind == "refund":
        refund = RefundCreate(
            company_id=world.company.id, amount=op[1], currency="GBP", method="bank_transfer", refunded_on=DAY
        )
        await ledger.refund(session, operator, refund)
    else:
        await ledger.apply_company_credit(session, operator, world.company.id, DAY)


async def _lines(session: AsyncSession, world: World, invoice_id: Any) -> list[Any]:
    rows = await session.execute(
        text("SELECT id FROM invoice_lines WHERE invoice_id = :id ORDER BY position"), {"id": invoice_id}
    )
    return [row.id for row in rows]


async def _scenario(configured: Settings, ops: list[tuple[Any, ...]]) -> list[tuple[int, ...]]:
    engine = create_engine(configured.database_url.get_secret_value(), app_role=APP_ROLE, pool_size=1)
    try:
        async with engine.connect() as connection:
            outer = await connection.begin()
            sessions = async_sessionmaker(
                bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
            state = AppState(
                configured,
                engine,
                sessions,
                None,  # type: ignore[arg-type]
                None,  # type: ignore[arg-type]
                Passwords(configured),
                Clock(),
                SecretBox(configured),
                Providers(),
                None,  # type: ignore[arg-type]
            )
            async with sessions() as session:
                world = await make_world(session, state, "prop")
                await bind_tenant(session, world.tenant_id)
                december = await bill_location(
                    session,
                    world.tenant_id,
                    world.location,
                    date(2026, 12, 1),
                    started_by="test",
                    issue_invoices=False,
                    clock=state.clock,
                )
                invoices = [world.invoice, december.invoices[0]]
                for invoice in invoices:
                    await issue_invoice(session, world.operator, invoice.id, state.clock)
                seen = []
                for op in ops:
                    step = await session.begin_nested()
                    try:
                        await _operate(session, world, invoices, op)
                        await step.commit()
                    except AppError:
                        await step.rollback()  # a refused request writes nothing
                    seen.append(tuple((await session.execute(text(INVARIANTS))).one()))
            await outer.rollback()
        return seen
    finally:
        await engine.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_no_sequence_of_money_movements_breaks_the_ledger(settings: Settings, ops: list[tuple[Any, ...]]) -> None:
    for violations in asyncio.run(_scenario(settings, ops)):
        assert violations == (0, 0, 0, 0, 0), f"after {ops}: {violations}"
