from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from app.auth.principal import SCOPES
from app.kit.schema import LINE, Input, Instant, check_instant

Scope = Annotated[str, Meta(max_length=40, extra_json_schema={"enum": sorted(SCOPES)})]


KeyName = Annotated[str, Meta(min_length=1, max_length=100, pattern=LINE)]


class ApiKeyCreate(Input):
    name: KeyName
    scopes: Annotated[list[Scope], Meta(min_length=1, max_length=len(SCOPES))]
    expires_at: Instant | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.scopes) - SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes {unknown}; known scopes are {sorted(SCOPES)}")
        check_instant(self.expires_at, "expires_at")


class ApiKeyUpdate(Input):
    """Only the label changes; a key's permissions are fixed when it is made (make a new key)."""

    name: KeyName | UnsetType = UNSET


class ApiKeyOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_by_user_id: uuid.UUID | None
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class ApiKeyCreated(msgspec.Struct):
    """Returned once, at creation: ``key`` is never shown again."""

    api_key: ApiKeyOut
    key: str
