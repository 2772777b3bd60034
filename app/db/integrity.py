"""Turn a unique-constraint violation at flush into a 409 the client can act on."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.errors import Conflict, driver_error


async def flush_unique(session: AsyncSession, messages: Mapping[str, str]) -> None:
    """Flush; a violation of a constraint named in ``messages`` becomes a Conflict with that message."""
    try:
        await session.flush()
    except IntegrityError as exc:
        constraint = getattr(driver_error(exc), "constraint_name", None)
        if isinstance(constraint, str) and constraint in messages:
            raise Conflict(messages[constraint]) from None
        raise
