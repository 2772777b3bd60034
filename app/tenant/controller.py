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

    @get("/", operation_id="getTenant", summary="Get the operator's settings", guards=[requires("settings:read")])
    async def get_tenant(self, db: Db, operator: Actor) -> TenantOut:
        """The settings of the operator the API key belongs to: its defaults for new locations, its support
        address, its lock date, and whether billing runs issue invoices and how they group them."""
        return to_out(await service.get_tenant(db, operator.tenant_id))

    @patch(
        "/", operation_id="updateTenant", summary="Update the operator's settings", guards=[requires("settings:write")]
    )
    async def update_tenant(self, db: Db, operator: Actor, app_state: State, data: JSONBody[TenantUpdate]) -> TenantOut:
        """Change only the fields sent. `lock_date` closes the books: nothing dated on or before it can be
        created or changed afterwards. It cannot be in the future (in the default time zone), and only an owner
        may move it back or clear it (403 otherwise). `issue_on_run` makes billing runs issue their invoices
        instead of leaving drafts."""
        return to_out(await service.update_tenant(db, operator, data, app_state.clock))
