"""The e-mail domain's jobs: sending one queued e-mail, and the sweep that rings for any still due."""

from __future__ import annotations

import uuid

import structlog
from arq import cron

from app.audit.capture import set_actor
from app.db import system
from app.db.engine import bind_tenant
from app.email.service import SEND_JOB, send_email, send_job_id
from app.kit.jobs import Ctx, JobRequest, Tasks, job, state_of

log = structlog.get_logger()
SWEEP_BATCH = 500


@job(SEND_JOB)
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


TASKS = Tasks(
    jobs=[email_send],
    crons=[cron(email_sweep, name="email.sweep", second=0, run_at_startup=False)],
)
