from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, update

from app.api_key.models import ApiKey
from app.db.repository import TenantRepository


class ApiKeyRepository(TenantRepository[ApiKey]):
    model = ApiKey

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
            .execution_options(synchronize_session=False)  # nothing loaded needs it: skip the ORM's evaluation
        )
