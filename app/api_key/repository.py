from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from app.api_key.models import ApiKey
from app.db.repository import TenantRepository
from app.user.models import User


class ApiKeyRepository(TenantRepository[ApiKey]):
    model = ApiKey

    async def creator_role(self, key_id: uuid.UUID) -> str | None:
        """The role of the active user who made the key, if any."""
        statement = (
            select(User.role)
            .join(ApiKey, (ApiKey.tenant_id == User.tenant_id) & (ApiKey.created_by_user_id == User.id))
            .where(ApiKey.tenant_id == self.tenant_id, ApiKey.id == key_id, User.active)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def touch(self, key_id: uuid.UUID, now: datetime) -> None:
        """Record use, at most once a minute per key, so reads do not turn into a write each."""
        await self.session.execute(
            update(ApiKey)
            .where(
                ApiKey.tenant_id == self.tenant_id,
                ApiKey.id == key_id,
                or_(
                    ApiKey.last_used_at.is_(None),
                    ApiKey.last_used_at < now - timedelta(minutes=1),
                ),
            )
            .values(last_used_at=now)
        )
