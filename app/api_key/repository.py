from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Uuid, bindparam, or_, update

from app.api_key.models import ApiKey
from app.db import driver
from app.db.repository import TenantRepository

_TOUCH = (
    update(ApiKey)
    .where(
        ApiKey.tenant_id == bindparam("tenant_id", type_=Uuid()),
        ApiKey.id == bindparam("key_id", type_=Uuid()),
        or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < bindparam("stale_before")),
    )
    .values(last_used_at=bindparam("now"))
)


async def touch(db: driver.Target, tenant_id: uuid.UUID, key_id: uuid.UUID, now: datetime, every: timedelta) -> None:
    """Record a key's use, at most once per ``every``, so reads do not each turn into a write."""
    params = {"tenant_id": tenant_id, "key_id": key_id, "now": now, "stale_before": now - every}
    await driver.execute(db, _TOUCH, params)


class ApiKeyRepository(TenantRepository[ApiKey]):
    model = ApiKey
