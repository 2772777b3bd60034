from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Select, update

from app.db.repository import TenantRepository
from app.member.models import Member, MemberToken


class MemberRepository(TenantRepository[Member]):
    model = Member

    def visible(
        self,
        location_ids: Collection[uuid.UUID] | None,
        *,
        location_id: uuid.UUID | None = None,
    ) -> Select[Member]:
        statement = self.select()
        if location_ids is not None:
            statement = statement.where(Member.location_id.in_(location_ids))
        if location_id is not None:
            statement = statement.where(Member.location_id == location_id)
        return statement

    async def by_email(self, email: str) -> Member | None:
        return (await self.session.execute(self.select().where(Member.email == email))).scalar_one_or_none()


class MemberTokenRepository(TenantRepository[MemberToken]):
    model = MemberToken

    async def touch(self, token_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(MemberToken)
            .where(MemberToken.tenant_id == self.tenant_id, MemberToken.id == token_id)
            .values(last_used_at=now)
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
