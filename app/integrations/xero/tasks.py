"""The Xero sync's jobs: a drain sending what one organisation is due, and the sweep that rings
for every organisation with something due."""

from __future__ import annotations

import uuid

import structlog
from arq import cron
from arq.worker import Retry

from app.db import system
from app.integrations.xero import sync
from app.integrations.xero.outbox import DRAIN_JOB, drain_job_id
from app.kit.jobs import Ctx, JobRequest, Tasks, job, state_of

log = structlog.get_logger()
SWEEP_BATCH = 500
# A drain comes back (see xero_drain) after each turn and each minute's calls while its
# organisation has a backlog; on its last try the job ends instead and the sweep rings a fresh one.
DRAIN_COMEBACKS = 1000
# arq puts a job retried with no delay back in its old place, ahead of the jobs waiting for a
# slot; the least delay puts it behind them.
LEAST_DELAY = 0.001


@job(DRAIN_JOB, max_tries=DRAIN_COMEBACKS)
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
        await state.queue.enqueue(
            JobRequest(DRAIN_JOB, (str(tenant_id), str(connection_id)), drain_job_id(connection_id))
        )
    if due:
        log.info("xero.sweep.requeued", count=len(due))
    return len(due)


TASKS = Tasks(
    jobs=[xero_drain],
    crons=[cron(xero_sweep, name="xero.sweep", second=set(range(5, 60, 15)), run_at_startup=False)],
)
