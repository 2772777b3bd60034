"""Scheduled billing through a real arq worker: each location when its own billing hour comes."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime

import pytest
from arq.jobs import Job, JobStatus
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from app.billing.models import BillingRun
from app.billing.tasks import billing_job_id, billing_run, billing_schedule
from app.db import system
from app.db.engine import bind_tenant
from app.invoice.models import Invoice
from app.invoice.service import issue
from app.kit.clock import FrozenClock
from app.location.models import Location
from app.membership.schemas import MembershipCreate
from app.membership.service import create_membership
from app.state import AppState
from app.tenant.models import Tenant
from tests.support.worker import run_worker
from tests.support.worlds import make_billing, new_customer, new_location, open_tenant

MARCH = date(2027, 3, 1)
# 1 March 2027 in Tokyo (UTC+9): 05:00 is before the 06:00 billing hour, 07:00 after it.
BEFORE = datetime(2027, 2, 28, 20, 0, tzinfo=UTC)
AFTER = datetime(2027, 2, 28, 22, 0, tzinfo=UTC)


async def _tokyo(state: AppState, *, also_osaka: bool = False) -> tuple[uuid.UUID, uuid.UUID]:
    """A tenant billing in Tokyo (and, asked for, a second location in Osaka with one company
    starting in March, numbered OSA-000001 on)."""
    async with state.sessionmaker() as session, session.begin():
        tokyo = {"code": "TYO", "name": "Shibuya", "time_zone": "Asia/Tokyo", "country": "JP"}
        operator, location = await open_tenant(session, state, tokyo)
        _, plan, _, _, _, _, _ = await make_billing(session, state, operator, location)
        places = [location]
        if also_osaka:
            osaka = new_location(operator.tenant_id, "OSA", name="Umeda", time_zone="Asia/Tokyo", country="JP")
            session.add(osaka)
            await session.flush()
            places.append(osaka)
        for place, name in zip(places, ("Kaisha KK", "Naniwa KK"), strict=False):
            company = await new_customer(session, operator, place, name, f"{place.code.lower()}@example.test", "JP")
            await create_membership(
                session,
                operator,
                MembershipCreate(company_id=company.id, plan_id=plan.id, location_id=place.id, start_date=MARCH),
            )
    return operator.tenant_id, location.id


async def _schedule_and_work(state: AppState, tenant_id: uuid.UUID, location_ids: list[uuid.UUID]) -> None:
    """The scheduler rings, the job for these locations is queued, and a worker runs the queue."""
    await billing_schedule({"state": state})
    job = Job(billing_job_id(tenant_id, location_ids, MARCH), state.redis, _queue_name=state.settings.worker_queue_name)
    assert await job.status() == JobStatus.queued
    await run_worker(state)


async def _location_id(state: AppState, tenant_id: uuid.UUID, code: str) -> uuid.UUID:
    async with state.sessionmaker() as session:
        await bind_tenant(session, tenant_id)
        return (await session.execute(select(Location.id).where(Location.code == code))).scalar_one()


async def _march(state: AppState, tenant_id: uuid.UUID) -> list[tuple[str, str, int, int]]:
    """The March runs: (location, status, invoices the run counts, invoices that name it)."""
    async with state.sessionmaker() as session:
        await bind_tenant(session, tenant_id)
        runs = (await session.execute(select(BillingRun).where(BillingRun.period_start == MARCH))).scalars().all()
        found = []
        for run in runs:
            location = await session.get_one(Location, (tenant_id, run.location_id))
            named = select(func.count()).select_from(Invoice).where(Invoice.billing_run_id == run.id)
            found.append((location.code, run.status, run.invoices_created, (await session.execute(named)).scalar_one()))
    return sorted(found)


async def test_a_location_is_billed_once_when_its_own_billing_hour_comes(live: AppState) -> None:
    tenant_id, location_id = await _tokyo(live)
    before = dataclasses.replace(live, clock=FrozenClock(BEFORE))
    after = dataclasses.replace(live, clock=FrozenClock(AFTER))

    async def due(state: AppState) -> list[tuple[uuid.UUID, uuid.UUID, date]]:
        async with state.sessionmaker() as session, session.begin():
            return await system.due_billing(session, state.clock.now(), state.settings.billing_hour, 10_000)

    assert (tenant_id, location_id, MARCH) not in await due(before)
    assert (tenant_id, location_id, MARCH) in await due(after)

    await _schedule_and_work(after, tenant_id, [location_id])

    async def invoices() -> int:
        async with live.sessionmaker() as session:
            await bind_tenant(session, tenant_id)
            statement = select(func.count()).select_from(Invoice).where(Invoice.location_id == location_id)
            return (await session.execute(statement)).scalar_one()

    made = await invoices()
    assert made == 3  # the fixture's November draft, Kaisha KK's March, and the fixture's customer caught up
    assert (tenant_id, location_id, MARCH) not in await due(after)
    # The same job again bills nothing more.
    assert await billing_run.coroutine({"state": after}, str(tenant_id), [str(location_id)], MARCH.isoformat()) == 0
    assert await invoices() == made


async def test_a_failed_run_keeps_nothing_but_a_record_of_the_failure(live: AppState) -> None:
    """Issuing on run into books locked through the issue date fails: the invoices go, the
    failure stays for the operator, and the location is still due."""
    tenant_id, location_id = await _tokyo(live)
    after = dataclasses.replace(live, clock=FrozenClock(AFTER))
    async with live.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant_id)
        await session.execute(update(Tenant).where(Tenant.id == tenant_id).values(issue_on_run=True, lock_date=MARCH))

    with pytest.raises(DBAPIError, match="locked"):
        await billing_run.coroutine({"state": after}, str(tenant_id), [str(location_id)], MARCH.isoformat())

    async with live.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant_id)
        march = select(BillingRun).where(BillingRun.location_id == location_id, BillingRun.period_start == MARCH)
        runs = (await session.execute(march)).scalars().all()
        invoices = (await session.execute(select(func.count()).select_from(Invoice))).scalar_one()
        due = await system.due_billing(session, after.clock.now(), after.settings.billing_hour, 10_000)
    assert [(run.status, run.period_start, run.invoices_created) for run in runs] == [("failed", MARCH, 0)]
    assert runs[0].error is not None
    assert "books are locked" in runs[0].error
    assert invoices == 1  # the fixture's November draft, and nothing of March
    assert (tenant_id, location_id, MARCH) in due


async def test_a_tenants_locations_due_together_are_one_job_and_each_gets_its_own_run(live: AppState) -> None:
    tenant_id, tokyo_id = await _tokyo(live, also_osaka=True)
    osaka_id = await _location_id(live, tenant_id, "OSA")
    after = dataclasses.replace(live, clock=FrozenClock(AFTER))

    await _schedule_and_work(after, tenant_id, [osaka_id, tokyo_id])

    # Tokyo: Kaisha KK's March and the fixture's customer caught up; Osaka: Naniwa KK's March.
    assert await _march(live, tenant_id) == [("OSA", "completed", 1, 1), ("TYO", "completed", 2, 2)]
    async with live.sessionmaker() as session, session.begin():
        due = await system.due_billing(session, after.clock.now(), after.settings.billing_hour, 10_000)
    assert not {(tenant_id, tokyo_id, MARCH), (tenant_id, osaka_id, MARCH)} & set(due)


async def test_one_location_that_cannot_be_billed_holds_back_none_of_the_others(live: AppState) -> None:
    """Osaka numbers its invoices like Tokyo, whose TYO-000001 is already issued: the tenant's
    batch fails, each location is then billed alone, and only Osaka's run is kept as failed."""
    tenant_id, tokyo_id = await _tokyo(live, also_osaka=True)
    osaka_id = await _location_id(live, tenant_id, "OSA")
    after = dataclasses.replace(live, clock=FrozenClock(AFTER))
    async with live.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant_id)
        november = (await session.execute(select(Invoice))).scalar_one()  # the fixture's draft, at Tokyo
        await issue(session, tenant_id, november, after.clock)
        assert november.number == "TYO-000001"
        await session.execute(update(Tenant).where(Tenant.id == tenant_id).values(issue_on_run=True))
        await session.execute(
            update(Location).where(Location.id == osaka_id).values(invoice_number_template="TYO-{number:06}")
        )

    with pytest.raises(DBAPIError, match="uq_invoices_tenant_id_number"):
        await billing_run.coroutine({"state": after}, str(tenant_id), [str(tokyo_id), str(osaka_id)], MARCH.isoformat())

    assert await _march(live, tenant_id) == [("OSA", "failed", 0, 0), ("TYO", "completed", 2, 2)]
    async with live.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant_id)
        failed = (await session.execute(select(BillingRun).where(BillingRun.status == "failed"))).scalar_one()
        numbers = (await session.execute(select(Invoice.number).order_by(Invoice.number))).scalars().all()
        due = await system.due_billing(session, after.clock.now(), after.settings.billing_hour, 10_000)
    assert failed.error is not None
    assert "uq_invoices_tenant_id_number" in failed.error
    assert numbers == ["TYO-000001", "TYO-000002", "TYO-000003"]
    assert (tenant_id, osaka_id, MARCH) in due
    assert (tenant_id, tokyo_id, MARCH) not in due
