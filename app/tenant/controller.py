from __future__ import annotations

import msgspec
from litestar import Controller, get, patch
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.guards import requires
from app.auth.principal import Operator
from app.tenant import service
from app.tenant.models import Tenant
from app.tenant.schemas import TenantOut, TenantUpdate


def to_out(tenant: Tenant) -> TenantOut:
    return msgspec.convert(tenant, TenantOut, from_attributes=True)


class TenantController(Controller):
    path = "/tenant"
    tags = ["Tenant"]

    @get("/", operation_id="getTenant", guards=[requires("settings:read")])
    async def get_tenant(self, db: AsyncSession, operator: Operator) -> TenantOut:
        return to_out(await service.get_tenant(db, operator.tenant_id))

    @patch("/", operation_id="updateTenant", guards=[requires("settings:write")])
    async def update_tenant(self, db: AsyncSession, operator: Operator, data: TenantUpdate) -> TenantOut:
        return to_out(await service.update_tenant(db, operator, data))
