"""The arq worker: which jobs exist, how they are run, and the periodic sweeps.

Jobs are thin: load by id, call a service, commit. Each runs in its own transaction bound to the
tenant named in its arguments, so row-level security holds in the worker exactly as in the API.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from contextlib import nullcontext
from datetime import date
from functools import wraps
from typing import Any

import structlog
from arq import cron
from arq.connections import RedisSettings
from arq.worker import Function, Retry, Worker, func

from app.audit.capture import set_actor
from app.billing.service import SCHEDULER, record_failed_run, run_scheduled
from app.db import system
from app.db.engine import bind_tenant
from app.email.service import SEND_JOB, send_email, send_job_id
from app.integrations.xero import sync
from app.integrations.xero.outbox import DRAIN_JOB, drain_job_id
from app.kit.errors import driver_error
from app.kit.jobs import JobRequest, deserialize, serialize
from app.main import build_state
from app.settings import Settings
from app.state import AppState

log = structlog.get_logger()
SWEEP_BATCH = 500
# A drain comes back (see xero_drain) after each turn and each minute's calls while its
# organisation has a backlog; on its last try the job ends instead and the sweep rings a fresh one.
DRAIN_COMEBACKS = 1000
# Jobs a worker runs at once. Most are drains, which mostly wait on Xero and hold a database
# connection only briefly; enough slots for every organisation with a backlog to have its calls in
# flight. Billing runs hold a connection throughout, so fewer of them run at once than the
# database pool (10, and 10 more at a pinch) could serve beside the drains.
MAX_JOBS = 50
BILLING_AT_ONCE = 8
# arq puts a job retried with no delay back in its old place, ahead of the jobs waiting for a
# slot; the least delay puts it behind them.
LEAST_DELAY = 0.001
Ctx = dict[str, Any]


def _job(name: str, max_tries: int | None = None) -> Callable[[Callable[..., Awaitable[Any]]], Function]:
    """Register a job under a dotted name, with its id bound into every log line it writes."""

    def wrap(function: Callable[..., Awaitable[Any]]) -> Function:
        @wraps(function)
        async def run(ctx: Ctx, *args: Any) -> Any:
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(job=name, job_id=ctx.get("job_id"))
            return await function(ctx, *args)

        return func(run, name=name, max_tries=max_tries)

    return wrap


def state_of(ctx: Ctx) -> AppState:
    state: AppState = ctx["state"]
    return state


@_job(SEND_JOB)
async def email_send(ctx: Ctx, tenant_id: str, email_id: str) -> str:
    state = state_of(ctx)
    structlog.contextvars.bind_contextvars(tenant_id=tenant_id)
    async with state.sessionmaker() as session:
        await bind_tenant(session, uuid.UUID(tenant_id))
        set_actor(session.sync_session, "system:worker")
        async with session.begin():
            return await send_email(
                session,
                state.settings,
                uuid.UUID(tenant_id),
                uuid.UUID(email_id),
                state.clock.now(),
            )


async def email_sweep(ctx: Ctx) -> int:
    """Ring for every queued e-mail that is due: a retry after a failure, or a job that was lost."""
    state = state_of(ctx)
    async with state.sessionmaker() as session, session.begin():
        due = await system.due_emails(session, state.clock.now(), SWEEP_BATCH)
    for tenant_id, email_id in due:
        await state.queue.enqueue(JobRequest(SEND_JOB, (str(tenant_id), str(email_id)), send_job_id(email_id)))
    if due:
        log.info("email.sweep.requeued", count=len(due))
    return len(due)


RUN_JOB = "billing.run"
RUN_BATCH = 20  # locations billed in one job (one transaction) at most


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


@_job(RUN_JOB)
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
    async with ctx.get("billing_slots") or nullcontext():  # none when called outside a worker
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


@_job(DRAIN_JOB, max_tries=DRAIN_COMEBACKS)
async def xero_drain(ctx: Ctx, tenant_id: str, connection_id: str) -> int:
    """Send what one Xero organisation is due. Safe to run twice, and beside another drain of the
    same organisation (each document is claimed by one drain at a time). A drain that must wait
    (its organisation's calls are spent for the minute, a retry is due in seconds) goes back on
    the queue for then instead of holding the worker; while it waits, its id takes every ring."""
    structlog.contextvars.bind_contextvars(tenant_id=tenant_id, connection_id=connection_id)
    report = await sync.drain(state_of(ctx), uuid.UUID(tenant_id), uuid.UUID(connection_id))
    # Past its tries arq would fail the job; it ends well instead, so its id is free for the sweep.
    if report.come_back_in is not None and ctx.get("job_try", 1) < DRAIN_COMEBACKS:
        raise Retry(defer=max(report.come_back_in, LEAST_DELAY))
    return report.synced


async def xero_sweep(ctx: Ctx) -> int:
    """Ring for every live organisation with something due: a retry whose time has come, a
    drain that died, or a doorbell that was lost."""
    state = state_of(ctx)
    async with state.sessionmaker() as session, session.begin():
        due = await system.xero_due_connections(session, state.clock.now(), SWEEP_BATCH)
    for tenant_id, connection_id in due:
        job = JobRequest(DRAIN_JOB, (str(tenant_id), str(connection_id)), drain_job_id(connection_id))
        await state.queue.enqueue(job)
    if due:
        log.info("xero.sweep.requeued", count=len(due))
    return len(due)


def make_worker(
    settings: Settings, *, burst: bool = False, state: AppState | None = None, scheduled: bool = True
) -> Worker:
    """The arq worker. ``scheduled=False`` leaves out the clock's rings (the sweeps and the billing
    scheduler), so a burst runs exactly what is queued, whatever the time."""

    async def startup(ctx: Ctx) -> None:
        ctx["state"] = state or await build_state(settings)
        ctx["billing_slots"] = asyncio.Semaphore(BILLING_AT_ONCE)

    async def shutdown(ctx: Ctx) -> None:
        if state is None and "state" in ctx:
            await state_of(ctx).close()

    return Worker(
        functions=[email_send, billing_run, xero_drain],
        cron_jobs=[
            cron(email_sweep, name="email.sweep", second=0, run_at_startup=False),
            cron(billing_schedule, name="billing.schedule", minute=set(range(0, 60, 5)), second=30),
            cron(xero_sweep, name="xero.sweep", second=set(range(5, 60, 15)), run_at_startup=False),
        ]
        if scheduled
        else [],
        on_startup=startup,
        on_shutdown=shutdown,
        redis_settings=RedisSettings.from_dsn(str(settings.redis_url)),
        queue_name=settings.worker_queue_name,
        job_serializer=serialize,
        job_deserializer=deserialize,
        health_check_interval=5,
        health_check_key=f"{settings.worker_queue_name}:health-check",
        max_jobs=MAX_JOBS,
        # No job's result is kept, not even a failed one's: a job id is free as soon as the job ends,
        # so a sweep can ring again for a row still due (a queued or running job's id still blocks
        # a duplicate).
        keep_result=0,
        job_timeout=300,
        burst=burst,
        poll_delay=0.2,
        handle_signals=not burst,
    )


def run(settings: Settings) -> None:
    from app.kit.logging import configure_logging

    configure_logging(settings.log_level, json=settings.log_json)
    make_worker(settings).run()
