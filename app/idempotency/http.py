"""Idempotency-Key on the API's money-moving POSTs: the header, the guard that requires it, and the
one way such a handler answers (the stored answer for a retry, or a new one remembered)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import HeaderParameter
from sqlalchemy.ext.asyncio import AsyncSession

from app.idempotency import service
from app.kit.errors import AppError

HEADER = "Idempotency-Key"
MAX_LENGTH = 200

IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name=HEADER,
        min_length=1,
        max_length=MAX_LENGTH,
        description=(
            "Required: any string unique to this request (a UUID will do). A retry with the same key and "
            "body gets the first answer again instead of moving the money twice; the same key with another "
            "body is refused with 422."
        ),
    ),
]
# The same header where it is honoured but not required (money moves only if there is something to move).
OptionalIdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name=HEADER,
        min_length=1,
        max_length=MAX_LENGTH,
        description="Optional: as on payments, a retry with the same key answers the same.",
    ),
]


class IdempotencyKeyMissing(AppError):
    status_code = 400
    code = "idempotency_key_required"
    title = "Idempotency-Key required"


async def require_key(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: said before anything else is read, so the client learns why and not only what."""
    key = connection.headers.get(HEADER, "")
    if not 1 <= len(key) <= MAX_LENGTH:
        raise IdempotencyKeyMissing(
            f"This request moves money or bills customers: send an {HEADER} header (1 to {MAX_LENGTH} "
            "characters, unique to the request, e.g. a UUID), so that a retry after a lost answer can "
            "never do it twice."
        )


async def respond_once(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    tenant_id: uuid.UUID,
    key: str | None,
    data: msgspec.Struct | None,
    create: Callable[[], Awaitable[msgspec.Struct]],
    *,
    status_code: int = 201,
) -> Response[Any]:
    """What ``create`` makes, or, for a retry of the same request with the same key, the answer
    stored the first time (the claim commits or rolls back with what it guards)."""
    if key is None:
        return Response(await create(), status_code=status_code)
    body = b"" if data is None else msgspec.json.encode(data)
    stored = await service.claim(session, tenant_id, key, service.fingerprint(request.method, request.url.path, body))
    if stored:
        return Response(stored.body, status_code=stored.status_code)
    made = await create()
    await service.remember(session, tenant_id, key, status_code, msgspec.to_builtins(made))
    return Response(made, status_code=status_code)
