from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import Guard

from app.auth.principal import Operator
from app.kit.errors import Forbidden, Unauthenticated


def requires(scope: str) -> Guard:
    """Guard: the request's operator credential must carry ``scope``. (Guards are coroutines:
    Litestar runs a plain function guard in a worker thread, a thread hop on every request.)"""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        operator = connection.scope.get("user")
        if not isinstance(operator, Operator):
            raise Unauthenticated("An operator API key is required.")
        if scope not in operator.scopes:
            raise Forbidden(f"This credential lacks the '{scope}' permission.")

    guard.required_scope = scope  # type: ignore[attr-defined]
    return guard
