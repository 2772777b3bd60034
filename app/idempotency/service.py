"""Idempotency-Key for requests that move money: a retried request (same key, same body) gets the
first answer again instead of moving the money twice.

The key is claimed in the request's own transaction, so it commits or rolls back with the money
it guards; a concurrent duplicate waits on the claim and then replays the stored answer."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.idempotency.models import IdempotencyKey
from app.kit.errors import Conflict, InvalidInput


@dataclass(frozen=True, slots=True)
class Stored:
    status_code: int
    body: dict[str, Any]


def fingerprint(method: str, path: str, body: bytes) -> bytes:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).digest()


async def claim(session: AsyncSession, tenant_id: uuid.UUID, key: str, print_: bytes) -> Stored | None:
    """None: go ahead (the key is now ours). Otherwise the stored answer to replay."""
    if not 1 <= len(key) <= 200:
        raise InvalidInput("Idempotency-Key must be 1 to 200 characters.")
    claimed = await session.execute(
        insert(IdempotencyKey)
        .values(tenant_id=tenant_id, key=key, fingerprint=print_)
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    )
    if claimed.first() is not None:
        return None
    seen = (
        await session.execute(
            select(IdempotencyKey).where(IdempotencyKey.tenant_id == tenant_id, IdempotencyKey.key == key)
        )
    ).scalar_one()
    if seen.fingerprint != print_:
        raise InvalidInput("This Idempotency-Key was used for a different request; use a new key.")
    if seen.status_code is None or seen.response is None:
        raise Conflict("A request with this Idempotency-Key is still being processed.")
    return Stored(seen.status_code, seen.response)


async def remember(
    session: AsyncSession, tenant_id: uuid.UUID, key: str, status_code: int, body: dict[str, Any]
) -> None:
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.tenant_id == tenant_id, IdempotencyKey.key == key)
        .values(status_code=status_code, response=body)
    )
