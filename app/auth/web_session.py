"""Browser sessions of the console and the portal: an opaque id in an HttpOnly cookie, the data in
Redis. Every sign-in gets a fresh id, so a session id planted before sign-in is worthless after."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Literal

import msgspec
from redis.asyncio import Redis

SessionKind = Literal["console", "portal"]


class WebSession(msgspec.Struct, frozen=True):
    kind: str
    tenant_id: uuid.UUID
    subject_id: uuid.UUID


@dataclass(frozen=True)
class WebSessions:
    redis: Redis
    max_age: int

    @staticmethod
    def cookie_name(kind: SessionKind) -> str:
        return f"fl_{kind}"

    async def create(self, kind: SessionKind, tenant_id: uuid.UUID, subject_id: uuid.UUID) -> str:
        session_id = secrets.token_urlsafe(32)
        payload = msgspec.json.encode(WebSession(kind=kind, tenant_id=tenant_id, subject_id=subject_id))
        await self.redis.set(f"websession:{session_id}", payload, ex=self.max_age)
        return session_id

    async def get(self, kind: SessionKind, session_id: str | None) -> WebSession | None:
        if not session_id:
            return None
        raw = await self.redis.get(f"websession:{session_id}")
        if raw is None:
            return None
        session = msgspec.json.decode(raw, type=WebSession)
        return session if session.kind == kind else None

    async def delete(self, session_id: str | None) -> None:
        if session_id:
            await self.redis.delete(f"websession:{session_id}")
