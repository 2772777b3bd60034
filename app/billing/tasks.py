"""The billing domain's jobs: a run for some locations of one tenant and one period, and the
schedule that rings for every location whose billing time has come."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import date

import structlog
from arq import cron

from app.audit.capture import set_actor
from app.billing.service import SCHEDULER, record_failed_run, run_scheduled
from app.db import system
from app.db.engine import bind_tenant
from app.kit.errors import driver_error
from app.kit.jobs import Ctx, JobRequest, Tasks, job, state_of
from app.state import AppState

log = structlog.get_logger()
RUN_JOB = "billing.run"
RUN_BATCH = 20  # locations billed in one job (one transaction) at most
SWEEP_BATCH = 500
# Runs hold a database connection throughout, so fewer of them run at once than the worker's
# database pool could serve beside its other jobs.
AT_ONCE = 8
_SLOTS = "billing_slots"


def billing_job_id(tenant_id: uuid.UUID, location_ids: Sequence[uuid.UUID], period: date) -> str:
    """The same locations due for the same period ring as the same job, once."""
    digest = hashlib.sha256(",".join(sorted(map(str, location_ids))).encode()).hexdigest()[:16]
    return f"{RUN_JOB}:{tenant_id}:{period.isoformat()}:{digest}"


def failure_summary(exc: BaseException) -> str:
    """What an operator may read of a failure: the database's own message, not the statement."""
    message = getattr(driver_error(exc), "message", None) or str(exc).split("\n", 1)[0]
    return f"The run failed: {message}"[:500]


async def bill_together(
    state: AppState, tenant: uuid.UUID, locations: list[uuid.UUID], day: date, *, last_try: bool
) -> int:
    """Bill ``locations`` in one transaction. If that fails, nothing of it is kept and the error
    is raised; on the last try, each location's run also records the failure for the operator
    (the latest error wins)."""
    async with state.sessionmaker() as session:
        await bind_tenant(session, tenant)
        set_actor(session.sync_session, SCHEDULER)
        try:
            async with session.begin():
                outcomes = await run_scheduled(session, tenant, locations, day, state.clock)
        except Exception as exc:
            log.exception("billing.run.failed", period=day.isoformat(), locations=len(locations))
            if last_try:
                async with session.begin():
                    for location in locations:
                        await record_failed_run(session, tenant, location, day, failure_summary(exc), state.clock)
            raise
        await state.queue.enqueue_deferred(session)
    return sum(outcome.run.invoices_created for outcome in outcomes)


async def _bill_each(state: AppState, tenant: uuid.UUID, locations: list[uuid.UUID], day: date) -> int:
    """Each location alone: one's failure (recorded on its run) holds back no other; the first
    failure is raised once all are tried."""
    made, failure = 0, None
    for location in locations:
        try:
            made += await bill_together(state, tenant, [location], day, last_try=True)
        except Exception as exc:  # noqa: BLE001 - recorded on its run, raised below
            failure = failure or exc
    if failure is not None:
        raise failure
    return made


@job(RUN_JOB)
async def billing_run(ctx: Ctx, tenant_id: str, location_ids: list[str], period: str) -> int:
    """Bill some locations of one tenant for one period, together (they share the statements).
    Should that fail, each is billed alone, so that one location's fault holds back no other;
    the operator sees the failed ones' errors, the scheduler tries them again. Safe to run
    twice: every period is claimed once."""
    state = state_of(ctx)
    structlog.contextvars.bind_contextvars(tenant_id=tenant_id)
    tenant, day = uuid.UUID(tenant_id), date.fromisoformat(period)
    locations = [uuid.UUID(location_id) for location_id in location_ids]
    alone = len(locations) == 1
    async with ctx.get(_SLOTS) or nullcontext():  # none when called outside a worker
        try:
            made = await bill_together(state, tenant, locations, day, last_try=alone)
        except Exception:
            if alone:
                raise
            made = await _bill_each(state, tenant, locations, day)
    log.info("billing.run.completed", invoices=made, locations=len(locations), period=period)
    return made


async def billing_schedule(ctx: Ctx) -> int:
    """Ring for every location whose billing time has come in its own time zone: one job for a
    tenant's locations due for the same period (up to ``RUN_BATCH`` of them)."""
    state = state_of(ctx)
    async with state.sessionmaker() as session, session.begin():
        due = await system.due_billing(session, state.clock.now(), state.settings.billing_hour, SWEEP_BATCH)
    together: dict[tuple[uuid.UUID, date], list[uuid.UUID]] = defaultdict(list)
    for tenant_id, location_id, period in due:
        together[tenant_id, period].append(location_id)
    for (tenant_id, period), location_ids in together.items():
        location_ids.sort()
        for first in range(0, len(location_ids), RUN_BATCH):
            batch = location_ids[first : first + RUN_BATCH]
            args = (str(tenant_id), [str(location_id) for location_id in batch], period.isoformat())
            await state.queue.enqueue(JobRequest(RUN_JOB, args, billing_job_id(tenant_id, batch, period)))
    if due:
        log.info("billing.schedule.enqueued", count=len(due))
    return len(due)


def _prepare(ctx: Ctx) -> None:
    ctx[_SLOTS] = asyncio.Semaphore(AT_ONCE)


TASKS = Tasks(
    prepare=_prepare,
    jobs=[billing_run],
    crons=[cron(billing_schedule, name="billing.schedule", minute=set(range(0, 60, 5)), second=30)],
)
