from __future__ import annotations

import msgspec
from litestar import Controller, get, patch
from litestar.params import JSONBody

from app.auth.guards import requires
from app.dependencies import Actor, Db, State
from app.tenant import service
from app.tenant.models import Tenant
from app.tenant.schemas import TenantOut, TenantUpdate


def to_out(tenant: Tenant) -> TenantOut:
    return msgspec.convert(tenant, TenantOut, from_attributes=True)


class TenantController(Controller):
    path = "/tenant"
    tags = ["Tenant"]

    @get("/", operation_id="getTenant", guards=[requires("settings:read")])
    async def get_tenant(self, db: Db, operator: Actor) -> TenantOut:
        return to_out(await service.get_tenant(db, operator.tenant_id))

    @patch("/", operation_id="updateTenant", guards=[requires("settings:write")])
    async def update_tenant(self, db: Db, operator: Actor, app_state: State, data: JSONBody[TenantUpdate]) -> TenantOut:
        return to_out(await service.update_tenant(db, operator, data, app_state.clock))
