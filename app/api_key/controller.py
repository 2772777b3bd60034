from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody

from app.api_key import service
from app.api_key.models import ApiKey
from app.api_key.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, ApiKeyUpdate
from app.auth.guards import requires
from app.dependencies import Actor, Db, State
from app.kit.pagination import Cursor, Limit, Page, page_request, paginate


def to_out(key: ApiKey) -> ApiKeyOut:
    return msgspec.convert(key, ApiKeyOut, from_attributes=True)


class ApiKeyController(Controller):
    path = "/api-keys"
    tags = ["API keys"]

    @get("/", operation_id="listApiKeys", summary="List API keys", guards=[requires("api_keys:read")])
    async def list_api_keys(
        self,
        db: Db,
        operator: Actor,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[ApiKeyOut]:
        """The operator's API keys, revoked and expired ones included, oldest first, a page at a time (pass
        `next_cursor` back as `cursor`). Only a key's `prefix` is shown: its secret is never stored."""
        page = page_request(cursor, limit)
        return paginate(await service.list_api_keys(db, operator, page), page, to_out)

    @get(
        "/{api_key_id:uuid}",
        operation_id="getApiKey",
        summary="Get an API key",
        guards=[requires("api_keys:read")],
    )
    async def get_api_key(self, db: Db, operator: Actor, api_key_id: FromPath[uuid.UUID]) -> ApiKeyOut:
        """One key's name, scopes, expiry, who made it and when it was last used or revoked."""
        return to_out(await service.get_api_key(db, operator, api_key_id))

    @post("/", operation_id="createApiKey", summary="Create an API key", guards=[requires("api_keys:write")])
    async def create_api_key(
        self, db: Db, operator: Actor, app_state: State, data: JSONBody[ApiKeyCreate]
    ) -> ApiKeyCreated:
        """A new key with the given scopes and optional expiry. The secret, `key`, is in this answer only and
        cannot be shown again. A key cannot carry a scope its creator lacks, and a user limited to some
        locations cannot make one (403)."""
        key, secret = await service.create_api_key(db, operator, data, app_state.clock.now())
        return ApiKeyCreated(api_key=to_out(key), key=secret)

    @patch(
        "/{api_key_id:uuid}",
        operation_id="updateApiKey",
        summary="Rename an API key",
        guards=[requires("api_keys:write")],
    )
    async def update_api_key(
        self, db: Db, operator: Actor, api_key_id: FromPath[uuid.UUID], data: JSONBody[ApiKeyUpdate]
    ) -> ApiKeyOut:
        """Change a key's `name`. Its scopes and expiry are fixed when it is made: make a new key to change
        them."""
        return to_out(await service.update_api_key(db, operator, api_key_id, data))

    @post(
        "/{api_key_id:uuid}/revoke",
        operation_id="revokeApiKey",
        summary="Revoke an API key",
        status_code=200,
        guards=[requires("api_keys:write")],
    )
    async def revoke_api_key(
        self, db: Db, operator: Actor, app_state: State, api_key_id: FromPath[uuid.UUID]
    ) -> ApiKeyOut:
        """The key stops working at once (401 from then on). Revoking a revoked key changes nothing."""
        return to_out(await service.revoke_api_key(db, operator, api_key_id, app_state.clock.now()))
