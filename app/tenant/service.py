"""The operator itself: its settings, and its creation by the platform."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from msgspec import UnsetType
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_key.models import ApiKey
from app.api_key.schemas import ApiKeyCreate
from app.api_key.service import create_api_key
from app.auth.principal import ROLE_SCOPES, Operator
from app.catalog.models import BUILTIN_ACCOUNTS, RevenueAccount
from app.db.engine import bind_tenant
from app.db.integrity import flush_unique
from app.db.system import tenant_by_slug
from app.kit.clock import Clock, local_today
from app.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.kit.ids import new_id
from app.kit.schema import apply_patch, valid_email
from app.kit.security import Passwords
from app.tenant.models import Tenant
from app.tenant.repository import TenantRepository
from app.tenant.schemas import TenantCreate, TenantUpdate
from app.user.models import User


async def get_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    tenant = await TenantRepository(session).get(tenant_id)
    if tenant is None:
        raise NotFound("No such tenant.")
    return tenant


async def update_tenant(session: AsyncSession, operator: Operator, data: TenantUpdate, clock: Clock) -> Tenant:
    """The books cannot be locked beyond the operator's own today (in its default time zone)."""
    tenant = await get_tenant(session, operator.tenant_id)
    today = local_today(clock, tenant.default_time_zone)
    if isinstance(data.lock_date, date) and data.lock_date > today:
        raise InvalidInput(f"lock_date {data.lock_date} is in the future; lock only days that have passed.")
    reopens = (
        not isinstance(data.lock_date, UnsetType)
        and tenant.lock_date is not None
        and (data.lock_date is None or data.lock_date < tenant.lock_date)
    )
    if reopens and operator.role != "owner":
        raise Forbidden("Only an owner may move the lock date back or clear it: that reopens closed books.")
    apply_patch(tenant, data)
    await session.flush()
    return tenant


async def create_tenant(
    session: AsyncSession, passwords: Passwords, data: TenantCreate, now: datetime
) -> tuple[Tenant, User, ApiKey, str]:
    """Create an operator, its owner and an owner API key, acting as the new tenant throughout."""
    if await tenant_by_slug(session, data.slug) is not None:
        raise Conflict(f"The slug '{data.slug}' is taken.")
    tenant_id = new_id()
    await bind_tenant(session, tenant_id)
    tenant = Tenant(
        id=tenant_id,
        slug=data.slug,
        name=data.name,
        status="active",
        support_email=data.support_email,
        default_currency=data.default_currency,
        default_country=data.default_country,
        default_time_zone=data.default_time_zone,
    )
    session.add(tenant)
    await flush_unique(session, {"uq_tenants_slug": f"The slug '{data.slug}' is taken."})
    owner = User(
        tenant_id=tenant_id,
        email=valid_email(data.owner.email),
        name=data.owner.name,
        role="owner",
        password_hash=await passwords.hash(data.owner.password),
        active=True,
    )
    session.add(owner)
    session.add_all(
        RevenueAccount(tenant_id=tenant_id, kind=kind, name=name, code=code, liability=kind == "deposits")
        for kind, (name, code) in BUILTIN_ACCOUNTS.items()
    )
    await session.flush()
    acting_owner = Operator(
        tenant_id=tenant_id,
        actor_kind="user",
        actor_id=owner.id,
        scopes=ROLE_SCOPES["owner"],
        role="owner",
    )
    key_request = ApiKeyCreate(name="Owner key", scopes=sorted(ROLE_SCOPES["owner"]))
    key, secret = await create_api_key(session, acting_owner, key_request, now)
    return tenant, owner, key, secret
