"""Browser sessions of the console and the portal: an opaque id in an HttpOnly cookie, the data in
Redis. Every sign-in gets a fresh id, so a session id planted before sign-in is worthless after.
Each person's sessions are indexed, so a password change or a deactivation ends all of them."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Literal

import msgspec
from redis.asyncio import Redis

from app.state import AppState

SessionKind = Literal["console", "portal"]


class WebSession(msgspec.Struct, frozen=True):
    kind: str
    tenant_id: uuid.UUID
    subject_id: uuid.UUID


def sessions_for(state: AppState) -> WebSessions:
    return WebSessions(state.redis, state.settings.session_max_age_seconds, state.settings.redis_key_prefix)


@dataclass(frozen=True)
class WebSessions:
    redis: Redis
    max_age: int
    prefix: str = ""

    @staticmethod
    def cookie_name(kind: SessionKind) -> str:
        return f"fl_{kind}"

    def _key(self, session_id: str) -> str:
        return f"{self.prefix}websession:{session_id}"

    def _index(self, kind: str, subject_id: uuid.UUID) -> str:
        return f"{self.prefix}websession-index:{kind}:{subject_id}"

    async def create(self, kind: SessionKind, tenant_id: uuid.UUID, subject_id: uuid.UUID) -> str:
        session_id = secrets.token_urlsafe(32)
        payload = msgspec.json.encode(WebSession(kind=kind, tenant_id=tenant_id, subject_id=subject_id))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(session_id), payload, ex=self.max_age)
            pipe.sadd(self._index(kind, subject_id), session_id)
            pipe.expire(self._index(kind, subject_id), self.max_age)
            await pipe.execute()
        return session_id

    async def get(self, kind: SessionKind, session_id: str | None) -> WebSession | None:
        if not session_id or len(session_id) > 64:
            return None
        raw = await self.redis.get(self._key(session_id))
        if raw is None:
            return None
        session = msgspec.json.decode(raw, type=WebSession)
        return session if session.kind == kind else None

    async def delete(self, session_id: str | None) -> None:
        if session_id and len(session_id) <= 64:
            await self.redis.delete(self._key(session_id))

    async def end_all(self, kind: SessionKind, subject_id: uuid.UUID) -> None:
        """Sign a person out everywhere (after a password change or a deactivation)."""
        index = self._index(kind, subject_id)
        session_ids: set[bytes] = await self.redis.smembers(index)  # type: ignore[misc]  # redis-py's sync|async union
        await self.redis.delete(index, *(self._key(session_id.decode()) for session_id in session_ids))
