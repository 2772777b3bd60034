from __future__ import annotations

import uuid

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.tenant.models import Tenant

_BY_ID = select(Tenant).where(Tenant.id == bindparam("id", type_=Uuid()))


class TenantRepository:
    """The tenant row itself (RLS shows a transaction only its own)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        return (await self.session.execute(_BY_ID, {"id": tenant_id})).scalar_one_or_none()
