"""Bearer-token authentication for the JSON APIs.

The operator API takes API keys (``flk_...``); the member API takes member tokens (``flm_...``).
Both are resolved through the system lookups, since the tenant is not known until the token is.

The look-up runs in the request's own transaction, which the handler's ``db`` (or ``reads``)
then carries on (see ``app.db.session``): one connection and one transaction per request.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import HttpMethod, ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service
from app.auth.principal import MemberPrincipal, Operator
from app.db.direct import Transaction
from app.db.session import opened_for
from app.kit.errors import Unauthenticated
from app.state import AppState


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send your credential as 'Authorization: Bearer <token>'.")
    return token.strip()


class _BearerAuthMiddleware:
    kind: str

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def authenticate(
        self, db: AsyncSession | Transaction, state: AppState, token: str
    ) -> Operator | MemberPrincipal:
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] == HttpMethod.OPTIONS:
            await self.app(scope, receive, send)
            return
        token = _bearer(ASGIConnection(scope))
        state = AppState.of(scope["litestar_app"])
        async with opened_for(scope, state) as db:
            scope["user"] = await self.authenticate(db, state, token)
            scope["auth"] = self.kind
            await self.app(scope, receive, send)


class ApiKeyAuthMiddleware(_BearerAuthMiddleware):
    kind = "api_key"

    async def authenticate(self, db: AsyncSession | Transaction, state: AppState, token: str) -> Operator:
        return await service.authenticate_api_key(db, state, token)


class MemberTokenAuthMiddleware(_BearerAuthMiddleware):
    kind = "member_token"

    async def authenticate(self, db: AsyncSession | Transaction, state: AppState, token: str) -> MemberPrincipal:
        return await service.authenticate_member_token(db, state, token)
