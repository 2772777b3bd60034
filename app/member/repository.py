from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Uuid, bindparam, exists, func, select, update

from app.db import driver
from app.db.repository import TenantRepository
from app.member.models import Member, MemberToken
from app.tenant.models import Tenant

_SIGNED_IN = select(
    exists().where(
        Member.tenant_id == bindparam("tenant_id", type_=Uuid()),
        Member.id == bindparam("member_id", type_=Uuid()),
        Member.active,
        Tenant.id == Member.tenant_id,
        Tenant.status == "active",
    )
)


async def signed_in(db: driver.Target, tenant_id: uuid.UUID, member_id: uuid.UUID) -> bool:
    """Whether the member and their organisation are both active (a browser session's check, on
    every portal request)."""
    [row] = await driver.fetch(db, _SIGNED_IN, {"tenant_id": tenant_id, "member_id": member_id})
    return bool(row[0])


class MemberRepository(TenantRepository[Member]):
    model = Member

    async def by_email(self, email: str) -> Member | None:
        return (await self.session.execute(self.select().where(Member.email == email))).scalar_one_or_none()


class MemberTokenRepository(TenantRepository[MemberToken]):
    model = MemberToken

    async def revoke_all(self, member_id: uuid.UUID) -> None:
        await self.session.execute(
            update(MemberToken)
            .where(
                MemberToken.tenant_id == self.tenant_id,
                MemberToken.member_id == member_id,
                MemberToken.revoked_at.is_(None),
            )
            .values(revoked_at=func.now())
        )

    async def revoke(self, token_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(MemberToken)
            .where(
                MemberToken.tenant_id == self.tenant_id,
                MemberToken.id == token_id,
                MemberToken.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
