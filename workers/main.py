"""The arq worker: the domains' jobs and rings of the clock (each domain's ``tasks.py``), put
together with how the worker runs them.

Jobs are thin: load by id, call a service, commit. Each runs in its own transaction bound to the
tenant named in its arguments, so row-level security holds in the worker exactly as in the API.
"""

from __future__ import annotations

from arq.connections import RedisSettings
from arq.worker import Worker

from app.billing.tasks import TASKS as BILLING
from app.email.tasks import TASKS as EMAIL
from app.integrations.xero.tasks import TASKS as XERO
from app.kit.jobs import Ctx, deserialize, serialize, state_of
from app.main import build_state
from app.settings import Settings
from app.state import AppState

DOMAINS = [EMAIL, BILLING, XERO]
# Jobs a worker runs at once. Most are drains, which mostly wait on Xero and hold a database
# connection only briefly; enough slots for every organisation with a backlog to have its calls in
# flight. Billing runs are held to fewer (see app.billing.tasks).
MAX_JOBS = 50


def make_worker(
    settings: Settings, *, burst: bool = False, state: AppState | None = None, scheduled: bool = True
) -> Worker:
    """The arq worker. ``scheduled=False`` leaves out the clock's rings (the sweeps and the billing
    scheduler), so a burst runs exactly what is queued, whatever the time."""

    async def startup(ctx: Ctx) -> None:
        ctx["state"] = state or await build_state(settings)
        for domain in DOMAINS:
            if domain.prepare is not None:
                domain.prepare(ctx)

    async def shutdown(ctx: Ctx) -> None:
        if state is None and "state" in ctx:
            await state_of(ctx).close()

    return Worker(
        functions=[function for domain in DOMAINS for function in domain.jobs],
        cron_jobs=[ring for domain in DOMAINS for ring in domain.crons] if scheduled else [],
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
