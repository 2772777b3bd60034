"""Authentication: API keys, member tokens and password sign-in for console users and members."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Protocol, TypeVar

from sqlalchemy import Update, Uuid, bindparam, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_key.models import ApiKey
from app.auth.principal import ROLE_SCOPES, MemberPrincipal, Operator
from app.auth.ratelimit import LoginThrottle
from app.db import driver, system
from app.db.direct import Transaction
from app.db.engine import bind_tenant, bound_by_lookup
from app.kit.errors import Unauthenticated
from app.kit.schema import SLUG_PATTERN, normalize_email
from app.kit.security import (
    api_key_prefix,
    digests_match,
    new_member_token,
    token_digest,
)
from app.member.models import Member, MemberToken
from app.member.repository import MemberTokenRepository
from app.state import AppState
from app.user.models import User
from app.user.repository import UserRepository

SLUG = re.compile(SLUG_PATTERN)
BAD_CREDENTIALS = "The organisation, e-mail address or password is not right."
# A credential's last use is written at most this often, so reads do not each turn into a write.
USE_RECORDED_EVERY = timedelta(minutes=1)


P = TypeVar("P", User, Member)


class People(Protocol[P]):
    """A repository of people who sign in with a password: users or members."""

    model: type[P]

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None: ...

    async def by_email(self, email: str) -> P | None: ...


@dataclass(frozen=True, slots=True)
class Credentials:
    organisation: str
    email: str
    password: str
    client: str


def _usable(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> bool:
    return revoked_at is None and (expires_at is None or expires_at > now)


def _stale(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or last_used_at < now - USE_RECORDED_EVERY


@cache
def _record_use(model: type[ApiKey] | type[MemberToken]) -> Update:
    return (
        update(model)
        .where(
            model.tenant_id == bindparam("tenant_id", type_=Uuid()),
            model.id == bindparam("id", type_=Uuid()),
            or_(model.last_used_at.is_(None), model.last_used_at < bindparam("stale_before")),
        )
        .values(last_used_at=bindparam("now"))
    )


async def _used(
    db: AsyncSession | Transaction,
    model: type[ApiKey] | type[MemberToken],
    tenant_id: uuid.UUID,
    row_id: uuid.UUID,
    now: datetime,
) -> None:
    """Record a credential's use, at most once per ``USE_RECORDED_EVERY`` (the statement checks
    again), so reads do not each turn into a write."""
    params = {"tenant_id": tenant_id, "id": row_id, "now": now, "stale_before": now - USE_RECORDED_EVERY}
    await driver.execute(db, _record_use(model), params)


async def authenticate_api_key(db: AsyncSession | Transaction, state: AppState, token: str) -> Operator:
    """The operator an API key acts for. Runs in the request's own transaction (a session's or a
    direct one), which it leaves bound to the key's tenant."""
    prefix = api_key_prefix(token)
    if prefix is None:
        raise Unauthenticated("That is not a FlexLedger API key.")
    now = state.clock.now()
    record = await system.api_key_by_prefix(db, prefix)
    if (
        record is None
        or not digests_match(record.digest, token_digest(token))
        or not _usable(record.expires_at, record.revoked_at, now)
        or record.tenant_status != "active"
    ):
        raise Unauthenticated("The API key is not valid, or it has expired or been revoked.")
    bound_by_lookup(db, record.tenant_id)
    if _stale(record.last_used_at, now):
        await _used(db, ApiKey, record.tenant_id, record.id, now)
    # A key acts for the person who made it: an owner's key may manage owners. Its scopes
    # still bound everything it can do.
    return Operator(
        tenant_id=record.tenant_id,
        actor_kind="api_key",
        actor_id=record.id,
        scopes=frozenset(record.scopes),
        role="owner" if record.creator_role == "owner" else None,
    )


async def authenticate_member_token(db: AsyncSession | Transaction, state: AppState, token: str) -> MemberPrincipal:
    """The member a token stands for. Runs in the request's own transaction (a session's or a
    direct one), which it leaves bound to the member's tenant."""
    now = state.clock.now()
    record = await system.member_token_by_digest(db, token_digest(token))
    if (
        record is None
        or not _usable(record.expires_at, record.revoked_at, now)
        or not record.member_active
        or record.tenant_status != "active"
    ):
        raise Unauthenticated("The token is not valid, or it has expired or been revoked.")
    bound_by_lookup(db, record.tenant_id)
    if _stale(record.last_used_at, now):
        await _used(db, MemberToken, record.tenant_id, record.id, now)
    return MemberPrincipal(tenant_id=record.tenant_id, member_id=record.member_id, token_id=record.id)


async def operator_for_user(session: AsyncSession, user: User) -> Operator:
    location_ids = None
    if user.role == "location_manager":
        location_ids = frozenset((await UserRepository(session, user.tenant_id).location_ids([user.id]))[user.id])
    return Operator(
        tenant_id=user.tenant_id,
        actor_kind="user",
        actor_id=user.id,
        scopes=ROLE_SCOPES[user.role],
        role=user.role,
        location_ids=location_ids,
    )


async def _tenant_for_login(session: AsyncSession, organisation: str) -> uuid.UUID | None:
    slug = organisation.strip().lower()
    if not SLUG.match(slug):
        return None
    tenant = await system.tenant_by_slug(session, slug)
    if tenant is None or tenant.status != "active":
        return None
    await bind_tenant(session, tenant.id)
    return tenant.id


async def sign_in(
    session: AsyncSession,
    state: AppState,
    throttle: LoginThrottle,
    who: type[People[P]],
    credentials: Credentials,
) -> P:
    """Check a console user's or a member's password; attempts are throttled (see LoginThrottle)."""
    email = normalize_email(credentials.email)
    account = f"{who.model.__tablename__}:{credentials.organisation.strip().lower()}:{email}"
    await throttle.attempt(account, credentials.client)
    tenant_id = await _tenant_for_login(session, credentials.organisation)
    # Text PostgreSQL cannot hold (NUL) names no account; it must not reach the query.
    person = await who(session, tenant_id).by_email(email) if tenant_id and "\x00" not in email else None
    candidate = person.password_hash if person is not None and person.active else None
    if not await state.passwords.verify(candidate, credentials.password) or person is None:
        raise Unauthenticated(BAD_CREDENTIALS)
    await throttle.succeeded(account, credentials.client)
    person.last_login_at = state.clock.now()
    await session.flush()
    return person


async def issue_member_token(
    session: AsyncSession, state: AppState, member: Member, device_name: str | None
) -> tuple[str, datetime]:
    token = new_member_token()
    expires_at = state.clock.now() + timedelta(days=state.settings.member_token_days)
    MemberTokenRepository(session, member.tenant_id).add(
        MemberToken(
            member_id=member.id,
            digest=token_digest(token),
            device_name=device_name,
            expires_at=expires_at,
        )
    )
    await session.flush()
    return token, expires_at


async def revoke_member_token(session: AsyncSession, state: AppState, principal: MemberPrincipal) -> None:
    if principal.token_id is not None:
        await MemberTokenRepository(session, principal.tenant_id).revoke(principal.token_id, state.clock.now())
