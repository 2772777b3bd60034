"""Background jobs, behind a thin layer so the queue library could be replaced.

Jobs are doorbells: they carry ids, the database holds the truth, and every kind of job has a
periodic sweep that rings again for rows still due, so a lost doorbell only delays work. A job requested inside a
transaction is only enqueued after that transaction commits (``defer`` + ``enqueue_deferred``),
so a worker never looks for a row that is not there yet, and a rolled-back request enqueues nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from arq.connections import ArqRedis
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

_PENDING = "pending_jobs"


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
