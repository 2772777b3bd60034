"""The platform's own path: creating operators. Guarded by the platform admin token."""

from __future__ import annotations

from typing import Any

from litestar import Controller, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import JSONBody

from app.api_key.controller import to_out as api_key_out
from app.api_key.schemas import ApiKeyCreated
from app.audit.capture import set_actor
from app.dependencies import Db, State
from app.kit.errors import Unauthenticated
from app.kit.security import digests_match, token_digest
from app.state import AppState
from app.tenant import service
from app.tenant.controller import to_out as tenant_out
from app.tenant.schemas import TenantCreate, TenantCreated


async def platform_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    expected = AppState.of(connection.app).settings.platform_admin_token
    scheme, _sep, token = connection.headers.get("authorization", "").partition(" ")
    if (
        expected is None
        or scheme.lower() != "bearer"
        or not digests_match(token_digest(token.strip()), token_digest(expected.get_secret_value()))
    ):
        raise Unauthenticated("The platform admin token is required.")


class PlatformController(Controller):
    path = "/api/platform"
    tags = ["Platform"]
    guards = [platform_admin]

    @post("/tenants", operation_id="createTenant", summary="Create an operator")
    async def create_tenant(self, db: Db, app_state: State, data: JSONBody[TenantCreate]) -> TenantCreated:
        """A new operator with its first owner, the built-in revenue accounts and an owner API key whose secret
        is in this answer only. Needs the platform administration token; a slug already taken answers 409."""
        set_actor(db.sync_session, "platform")
        tenant, owner, key, secret = await service.create_tenant(db, app_state.passwords, data, app_state.clock.now())
        return TenantCreated(
            tenant=tenant_out(tenant),
            owner_user_id=owner.id,
            owner_api_key=ApiKeyCreated(api_key_out(key), secret),
        )
