from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.tenant.models import Tenant


class TenantRepository:
    """The tenant row itself (RLS shows a transaction only its own)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        statement = select(Tenant).where(Tenant.id == tenant_id)
        return (await self.session.execute(statement)).scalar_one_or_none()
