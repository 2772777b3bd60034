"""Billing under concurrency, on committed data and separate connections (as two workers would)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

from sqlalchemy import func, select

from app.auth.principal import Operator
from app.billing.engine import bill_location
from app.billing.models import BillingItem
from app.db.engine import bind_tenant
from app.invoice.models import Invoice
from app.invoice.service import issue_invoice
from app.location.models import Location
from app.membership.schemas import MembershipCreate
from app.membership.service import create_membership
from app.state import AppState
from tests.support.worlds import make_billing, new_customer, open_tenant

COMPANIES = 12
PERIOD = date(2027, 2, 1)


async def _setup(state: AppState) -> tuple[Operator, uuid.UUID]:
    """A committed tenant with one location and a dozen customers holding a membership each."""
    async with state.sessionmaker() as session, session.begin():
        operator, location = await open_tenant(session, state)
        _, plan, _, _, _, _, _ = await make_billing(session, state, operator, location)
        for index in range(COMPANIES):
            company = await new_customer(session, operator, location, f"Customer {index:02}", f"c{index}@example.test")
            await create_membership(
                session,
                operator,
                MembershipCreate(company_id=company.id, plan_id=plan.id, location_id=location.id, start_date=PERIOD),
            )
    return operator, location.id


async def _run(state: AppState, operator: Operator, location_id: uuid.UUID) -> int:
    async with state.sessionmaker() as session, session.begin():
        await bind_tenant(session, operator.tenant_id)
        location = await session.get_one(Location, (operator.tenant_id, location_id))
        outcome = await bill_location(
            session, operator.tenant_id, location, PERIOD, started_by="test", issue_invoices=False, clock=state.clock
        )
        return len(outcome.invoices)


async def test_two_runs_at_once_bill_each_customer_once(live: AppState) -> None:
    operator, location_id = await _setup(live)
    made = await asyncio.gather(*(_run(live, operator, location_id) for _ in range(3)))
    # One run bills the twelve customers and catches Acme up (its Dec, Jan and Feb); the others
    # find everything claimed.
    assert sorted(made) == [0, 0, COMPANIES + 1]
    async with live.sessionmaker() as session:
        await bind_tenant(session, operator.tenant_id)
        invoices = (
            await session.execute(
                select(Invoice.company_id, func.count())
                .where(Invoice.tenant_id == operator.tenant_id)
                .group_by(Invoice.company_id)
            )
        ).all()
        # Each new customer once; Acme twice (the fixture's November run, then this catch-up).
        assert sorted(count for _, count in invoices) == [1] * COMPANIES + [2]
        claimed = (await session.execute(select(func.count()).select_from(BillingItem))).scalar_one()
        assert claimed == COMPANIES + 5  # twelve Februaries; Acme's Oct part, Nov, Dec, Jan and Feb


async def test_issuing_at_once_numbers_without_gaps_or_repeats(live: AppState) -> None:
    operator, location_id = await _setup(live)
    await _run(live, operator, location_id)
    async with live.sessionmaker() as session:
        await bind_tenant(session, operator.tenant_id)
        drafts = (
            (await session.execute(select(Invoice.id).where(Invoice.status == "draft").order_by(Invoice.id)))
            .scalars()
            .all()
        )

    async def issue_one(invoice_id: uuid.UUID) -> str:
        async with live.sessionmaker() as session, session.begin():
            await bind_tenant(session, operator.tenant_id)
            invoice = await issue_invoice(session, operator, invoice_id, live.clock)
            assert invoice.number is not None
            return invoice.number

    numbers = await asyncio.gather(*(issue_one(invoice_id) for invoice_id in drafts))
    assert sorted(numbers) == [f"MAIN-{n:06}" for n in range(1, len(drafts) + 1)]
