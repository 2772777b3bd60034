"""Background jobs, behind a thin layer so the queue library could be replaced.

Jobs are doorbells: they carry ids, the database holds the truth, and every kind of job has a
periodic sweep that rings again for rows still due, so a lost doorbell only delays work. A job requested inside a
transaction is only enqueued after that transaction commits (``defer`` + ``enqueue_deferred``),
so a worker never looks for a row that is not there yet, and a rolled-back request enqueues nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import TYPE_CHECKING, Any

import msgspec
import structlog
from arq.connections import ArqRedis
from arq.cron import CronJob
from arq.worker import Function, func
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

if TYPE_CHECKING:
    from app.state import AppState

_PENDING = "pending_jobs"
Ctx = dict[str, Any]  # what a worker hands each job: its state, the job's id and try


def state_of(ctx: Ctx) -> AppState:
    state: AppState = ctx["state"]
    return state


def job(name: str, max_tries: int | None = None) -> Callable[[Callable[..., Awaitable[Any]]], Function]:
    """Register a job under a dotted name, with its id bound into every log line it writes."""

    def wrap(function: Callable[..., Awaitable[Any]]) -> Function:
        @wraps(function)
        async def run(ctx: Ctx, *args: Any) -> Any:
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(job=name, job_id=ctx.get("job_id"))
            return await function(ctx, *args)

        return func(run, name=name, max_tries=max_tries)

    return wrap


@dataclass(frozen=True)
class Tasks:
    """What one domain gives the worker: its jobs, the rings of the clock (its sweeps and
    schedules, which a burst leaves out), and what it sets up in the worker's context at start."""

    jobs: list[Function]
    crons: list[CronJob] = field(default_factory=list)
    prepare: Callable[[Ctx], None] | None = None


def serialize(value: dict[str, Any]) -> bytes:
    return msgspec.msgpack.encode(value)


def deserialize(raw: bytes) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.msgpack.decode(raw)
    return result


@dataclass(frozen=True, slots=True)
class JobRequest:
    name: str
    args: tuple[str | int | bool | list[str] | None, ...]
    job_id: str


def defer(session: AsyncSession, name: str, *args: str | int | bool | None, job_id: str) -> None:
    """Ask for job ``name`` once the session's transaction commits. ``job_id`` is deterministic so
    the same request made twice is one job."""
    session.info.setdefault(_PENDING, []).append(JobRequest(name, args, job_id))


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    """Jobs asked for in a transaction that rolled back were never decided: drop them."""
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def take_deferred(session: AsyncSession) -> list[JobRequest]:
    jobs: list[JobRequest] = session.info.pop(_PENDING, [])
    return jobs


class JobQueue:
    def __init__(self, redis: ArqRedis, queue_name: str) -> None:
        self.redis = redis
        self.queue_name = queue_name

    async def enqueue(self, job: JobRequest) -> None:
        await self.redis.enqueue_job(job.name, *job.args, _job_id=job.job_id, _queue_name=self.queue_name)

    async def enqueue_deferred(self, session: AsyncSession) -> None:
        for job in take_deferred(session):
            await self.enqueue(job)
