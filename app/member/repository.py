from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Uuid, bindparam, exists, func, or_, select, update

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


class MemberRepository(TenantRepository[Member]):
    model = Member

    async def by_email(self, email: str) -> Member | None:
        return (await self.session.execute(self.select().where(Member.email == email))).scalar_one_or_none()

    async def signed_in(self, member_id: uuid.UUID) -> bool:
        """Whether the member and their organisation are both active (a browser session's check,
        on every portal request)."""
        [row] = await driver.fetch(self.session, _SIGNED_IN, {"tenant_id": self.tenant_id, "member_id": member_id})
        return bool(row[0])


class MemberTokenRepository(TenantRepository[MemberToken]):
    model = MemberToken

    async def touch(self, token_id: uuid.UUID, now: datetime) -> None:
        """Record use, at most once a minute per token, so reads do not turn into a write each."""
        await self.session.execute(
            update(MemberToken)
            .where(
                MemberToken.tenant_id == self.tenant_id,
                MemberToken.id == token_id,
                or_(MemberToken.last_used_at.is_(None), MemberToken.last_used_at < now - timedelta(minutes=1)),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)  # nothing loaded needs it: skip the ORM's evaluation
        )

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
