"""The one narrow path across tenants: lookups that must happen before a tenant is known
(authentication) or that find due work for any tenant (the scheduler). Each is a SECURITY DEFINER
function in the database, so the app role itself can never read across tenants."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import driver


@dataclass(frozen=True, slots=True)
class TenantRef:
    id: uuid.UUID
    status: str


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    tenant_id: uuid.UUID
    id: uuid.UUID
    digest: bytes
    scopes: list[str]
    expires_at: datetime | None
    revoked_at: datetime | None
    tenant_status: str
    last_used_at: datetime | None
    creator_role: str | None  # of the active user who made the key


@dataclass(frozen=True, slots=True)
class MemberTokenRecord:
    tenant_id: uuid.UUID
    id: uuid.UUID
    member_id: uuid.UUID
    expires_at: datetime
    revoked_at: datetime | None
    member_active: bool
    tenant_status: str
    last_used_at: datetime | None


async def tenant_by_slug(session: AsyncSession, slug: str) -> TenantRef | None:
    row = (await session.execute(text("SELECT * FROM sys_tenant_by_slug(:slug)"), {"slug": slug})).first()
    return TenantRef(*row) if row else None


# Authentication binds the transaction to the tenant of the credential it found in the statement
# that finds it (the last column), which saves a round trip on every authenticated request. The
# caller checks the credential before anything else runs; refused, the transaction is rolled back.
_API_KEY = text("SELECT k.*, set_config('app.tenant_id', k.tenant_id::text, true) FROM sys_api_key_by_prefix(:p) k")
_MEMBER_TOKEN = text(
    "SELECT t.*, set_config('app.tenant_id', t.tenant_id::text, true) FROM sys_member_token_by_digest(:d) t"
)


# Every authenticated request sends one of these, so they go straight to the driver.


async def api_key_by_prefix(db: driver.Target, prefix: str) -> ApiKeyRecord | None:
    """The key with this prefix; the transaction is left bound to its tenant (see above)."""
    rows = await driver.fetch(db, _API_KEY, {"p": prefix})
    return ApiKeyRecord(*tuple(rows[0])[:-1]) if rows else None


async def member_token_by_digest(db: driver.Target, digest: bytes) -> MemberTokenRecord | None:
    """The token with this digest; the transaction is left bound to its tenant (see above)."""
    rows = await driver.fetch(db, _MEMBER_TOKEN, {"d": digest})
    return MemberTokenRecord(*tuple(rows[0])[:-1]) if rows else None


async def due_emails(session: AsyncSession, now: datetime, limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Queued e-mails of every tenant whose next attempt is due."""
    statement = text("SELECT tenant_id, id FROM sys_due_emails(:now, :limit)")
    rows = await session.execute(statement, {"now": now, "limit": limit})
    return [(row.tenant_id, row.id) for row in rows]


async def due_billing(
    session: AsyncSession, now: datetime, hour: int, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID, date]]:
    """Locations of every tenant whose billing hour has come, in their own time zone, with the
    period that is due and no completed run for it yet."""
    statement = text("SELECT tenant_id, location_id, period_start FROM sys_due_billing(:now, :hour, :limit)")
    rows = await session.execute(statement, {"now": now, "hour": hour, "limit": limit})
    return [(row.tenant_id, row.location_id, row.period_start) for row in rows]


async def sealed_xero_grants(session: AsyncSession) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Every tenant's Xero grants that still hold tokens (to re-seal them under a new key)."""
    rows = await session.execute(text("SELECT tenant_id, id FROM sys_sealed_xero_grants()"))
    return [(row.tenant_id, row.id) for row in rows]


async def xero_due_connections(session: AsyncSession, now: datetime, limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Live Xero connections of every tenant with something due to send (or a send whose drain
    died), the longest-waiting first."""
    statement = text("SELECT tenant_id, connection_id FROM sys_xero_due_connections(:now, :limit)")
    rows = await session.execute(statement, {"now": now, "limit": limit})
    return [(row.tenant_id, row.connection_id) for row in rows]
