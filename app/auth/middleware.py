"""Bearer-token authentication for the JSON APIs.

The operator API takes API keys (``flk_...``); the member API takes member tokens (``flm_...``).
Both are resolved through the system lookups, since the tenant is not known until the token is.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from app.auth import service
from app.kit.errors import Unauthenticated
from app.state import AppState


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send your credential as 'Authorization: Bearer <token>'.")
    return token.strip()


class ApiKeyAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        state = AppState.of(connection.app)
        operator = await service.authenticate_api_key(state, _bearer(connection))
        return AuthenticationResult(user=operator, auth="api_key")


class MemberTokenAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        state = AppState.of(connection.app)
        member = await service.authenticate_member_token(state, _bearer(connection))
        return AuthenticationResult(user=member, auth="member_token")
