"""Billing several locations of a tenant in one transaction: each gets its own run and invoices,
exactly as if billed alone, and batches that overlap never bill anything twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

from sqlalchemy import func, select, update

from app.auth.principal import Operator
from app.billing.engine import bill_locations
from app.billing.models import BillingRun
from app.db.engine import bind_tenant
from app.invoice.models import Invoice, InvoiceLine
from app.location.models import Location
from app.membership.schemas import MembershipCreate
from app.membership.service import create_membership
from app.state import AppState
from app.tenant.models import Tenant
from tests.support.worlds import make_billing, new_customer, new_location, open_tenant

PERIOD = date(2027, 2, 1)
EACH = 5  # new customers per location


async def _two_locations(state: AppState, *, home: bool = False) -> tuple[Operator, uuid.UUID, uuid.UUID]:
    """A tenant with Main (the fixture's Acme, caught up from November) and North, each with
    ``EACH`` customers homed there holding a membership there; with ``home``, one more customer
    homed at Main holds a membership at North, and invoices go to the home location."""
    async with state.sessionmaker() as session, session.begin():
        operator, main = await open_tenant(session, state)
        _, plan, _, _, _, _, _ = await make_billing(session, state, operator, main)
        north = new_location(operator.tenant_id, "NTH", name="North")
        session.add(north)
        await session.flush()
        for place in (main, north):
            for index in range(EACH):
                company = await new_customer(
                    session, operator, place, f"{place.code} {index}", f"{index}@{place.code}.test"
                )
                await create_membership(
                    session,
                    operator,
                    MembershipCreate(company_id=company.id, plan_id=plan.id, location_id=place.id, start_date=PERIOD),
                )
        if home:
            traveller = await new_customer(session, operator, main, "Traveller Ltd", "t@example.test")
            await create_membership(
                session,
                operator,
                MembershipCreate(company_id=traveller.id, plan_id=plan.id, location_id=north.id, start_date=PERIOD),
            )
            await session.execute(update(Tenant).where(Tenant.id == operator.tenant_id).values(invoice_location="home"))
    return operator, main.id, north.id


async def _bill(state: AppState, operator: Operator, location_ids: list[uuid.UUID], *, home: bool = False) -> int:
    async with state.sessionmaker() as session, session.begin():
        await bind_tenant(session, operator.tenant_id)
        locations = [await session.get_one(Location, (operator.tenant_id, id_)) for id_ in location_ids]
        outcomes = await bill_locations(
            session,
            operator.tenant_id,
            locations,
            PERIOD,
            started_by="test",
            issue_invoices=False,
            clock=state.clock,
            invoice_location="home" if home else "location",
        )
        assert [outcome.run.location_id for outcome in outcomes] == location_ids
        return sum(len(outcome.invoices) for outcome in outcomes)


async def _invoices(state: AppState, operator: Operator) -> list[tuple[str, str, int]]:
    """Each invoice of the period's runs: (its location, its company, its lines), sorted."""
    async with state.sessionmaker() as session:
        await bind_tenant(session, operator.tenant_id)
        lines = select(func.count()).where(InvoiceLine.invoice_id == Invoice.id).scalar_subquery()
        rows = await session.execute(
            select(Location.code, Invoice.company_id, lines)
            .join(BillingRun, BillingRun.id == Invoice.billing_run_id)
            .join(Location, Location.id == Invoice.location_id)
            .where(BillingRun.period_start == PERIOD)
        )
        return sorted((code, str(company), count) for code, company, count in rows)


async def test_overlapping_batches_at_once_bill_each_customer_once(live: AppState) -> None:
    operator, main, north = await _two_locations(live)
    made = await asyncio.gather(
        _bill(live, operator, [main, north]),
        _bill(live, operator, [north, main]),
        _bill(live, operator, [north]),
        _bill(live, operator, [main]),
    )
    # Main's five and Acme (its Dec, Jan and Feb on one invoice), North's five: once in all.
    assert sum(made) == 2 * EACH + 1
    invoices = await _invoices(live, operator)
    assert len(invoices) == 2 * EACH + 1
    assert len({company for _, company, _ in invoices}) == 2 * EACH + 1
    assert sum(1 for code, _, _ in invoices if code == "NTH") == EACH


async def test_a_batch_bills_what_each_location_would_alone(live: AppState) -> None:
    """Home-location invoicing: the traveller's North membership goes on Main's invoice, whether
    Main is billed with North or alone."""
    together, main, north = await _two_locations(live, home=True)
    assert await _bill(live, together, [main, north], home=True) == 2 * EACH + 2
    alone, main_alone, north_alone = await _two_locations(live, home=True)
    assert await _bill(live, alone, [north_alone], home=True) == EACH
    assert await _bill(live, alone, [main_alone], home=True) == EACH + 2

    def shape(invoices: list[tuple[str, str, int]]) -> list[tuple[str, int]]:
        return sorted((code, count) for code, _, count in invoices)

    batched, single = await _invoices(live, together), await _invoices(live, alone)
    assert shape(batched) == shape(single)
    # Acme's catch-up: Dec, Jan and Feb, each discounted (six lines); the traveller's one at Main.
    assert shape(batched).count(("MAIN", 1)) == EACH + 1
    assert ("MAIN", 6) in shape(batched)
    assert shape(batched).count(("NTH", 1)) == EACH
