"""Cursor pagination over time-ordered ids: stable under inserts, no OFFSET scans."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Generic, Protocol, TypeVar

import msgspec
from litestar.params import QueryParameter

from app.kit.errors import InvalidInput

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# A cursor is an id, base64url without padding: 22 characters.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{22}$"

# The query parameters of every list endpoint, with their limits declared for the API's document.
Cursor = Annotated[
    str | None,
    QueryParameter(
        name="cursor",
        pattern=CURSOR_PATTERN,
        description="The next_cursor of the previous page; omit it for the first page.",
    ),
]
Limit = Annotated[
    int | None,
    QueryParameter(
        name="limit", ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."
    ),
]


class Page(msgspec.Struct, Generic[T]):
    data: list[T]
    next_cursor: str | None


class PageRequest(msgspec.Struct, frozen=True):
    after: uuid.UUID | None
    limit: int


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).rstrip(b"=").decode()


def page_request(cursor: str | None, limit: int | None) -> PageRequest:
    """Validate the query parameters of a list endpoint."""
    if limit is None:
        limit = DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}.")
    if cursor is None:
        return PageRequest(after=None, limit=limit)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return PageRequest(after=uuid.UUID(bytes=raw), limit=limit)
    except (binascii.Error, ValueError):
        raise InvalidInput("cursor is not valid; pass the next_cursor of a previous page.") from None


class HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


M = TypeVar("M", bound=HasId)


def paginate(rows: Sequence[M], request: PageRequest, to_schema: Callable[[M], T]) -> Page[T]:
    """Rows were fetched with ``limit + 1``; the extra one only tells whether a next page exists."""
    has_more = len(rows) > request.limit
    shown = rows[: request.limit]
    return Page(
        data=[to_schema(row) for row in shown],
        next_cursor=encode_cursor(shown[-1].id) if has_more else None,
    )
