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
from app.db import system
from app.db.engine import bind_tenant
from app.invoice.models import Invoice
from app.kit.clock import FrozenClock
from app.membership.schemas import MembershipCreate
from app.membership.service import create_membership
from app.state import AppState
from app.tenant.models import Tenant
from tests.conftest import make_billing, new_customer, open_tenant
from workers.main import billing_job_id, billing_run, billing_schedule, make_worker

MARCH = date(2027, 3, 1)
# 1 March 2027 in Tokyo (UTC+9): 05:00 is before the 06:00 billing hour, 07:00 after it.
BEFORE = datetime(2027, 2, 28, 20, 0, tzinfo=UTC)
AFTER = datetime(2027, 2, 28, 22, 0, tzinfo=UTC)


async def _tokyo(state: AppState) -> tuple[uuid.UUID, uuid.UUID]:
    async with state.sessionmaker() as session, session.begin():
        tokyo = {"code": "TYO", "name": "Shibuya", "time_zone": "Asia/Tokyo", "country": "JP"}
        operator, location = await open_tenant(session, state, tokyo)
        _, plan, _, _, _, _, _ = await make_billing(session, state, operator, location)
        company = await new_customer(session, operator, location, "Kaisha KK", "kk@example.test", "JP")
        await create_membership(
            session,
            operator,
            MembershipCreate(company_id=company.id, plan_id=plan.id, location_id=location.id, start_date=MARCH),
        )
    return operator.tenant_id, location.id


async def test_a_location_is_billed_once_when_its_own_billing_hour_comes(live: AppState) -> None:
    tenant_id, location_id = await _tokyo(live)
    before = dataclasses.replace(live, clock=FrozenClock(BEFORE))
    after = dataclasses.replace(live, clock=FrozenClock(AFTER))

    async def due(state: AppState) -> list[tuple[uuid.UUID, uuid.UUID, date]]:
        async with state.sessionmaker() as session, session.begin():
            return await system.due_billing(session, state.clock.now(), state.settings.billing_hour, 10_000)

    assert (tenant_id, location_id, MARCH) not in await due(before)
    assert (tenant_id, location_id, MARCH) in await due(after)

    await billing_schedule({"state": after})
    job = Job(billing_job_id(location_id, MARCH), live.redis, _queue_name=live.settings.worker_queue_name)
    assert await job.status() == JobStatus.queued
    worker = make_worker(live.settings, burst=True, state=after)
    try:
        await worker.async_run()
    finally:
        await worker.close()

    async def invoices() -> int:
        async with live.sessionmaker() as session:
            await bind_tenant(session, tenant_id)
            statement = select(func.count()).select_from(Invoice).where(Invoice.location_id == location_id)
            return (await session.execute(statement)).scalar_one()

    made = await invoices()
    assert made == 3  # the fixture's November draft, Kaisha KK's March, and the fixture's customer caught up
    assert (tenant_id, location_id, MARCH) not in await due(after)
    # The same job again bills nothing more.
    assert await billing_run.coroutine({"state": after}, str(tenant_id), str(location_id), MARCH.isoformat()) == 0
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
        await billing_run.coroutine({"state": after}, str(tenant_id), str(location_id), MARCH.isoformat())

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
