from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, Literal

import msgspec
from msgspec import UNSET, UnsetType

from app.kit.schema import Email, Input, Name, Password

RoleName = Literal["owner", "admin", "finance", "location_manager"]


class UserCreate(Input):
    email: Email
    name: Name
    role: RoleName
    password: Password | None = None
    location_ids: list[uuid.UUID] = []

    # A location manager manages the locations listed (one at least); other roles manage all.
    json_schema: ClassVar[dict[str, Any]] = {
        "oneOf": [
            {
                "properties": {"role": {"const": "location_manager"}, "location_ids": {"minItems": 1}},
                "required": ["location_ids"],
            },
            {"properties": {"role": {"enum": ["owner", "admin", "finance"]}, "location_ids": {"maxItems": 0}}},
        ]
    }

    def __post_init__(self) -> None:
        if self.role == "location_manager" and not self.location_ids:
            raise ValueError("location_ids: a location manager needs at least one location")
        if self.role != "location_manager" and self.location_ids:
            raise ValueError("location_ids: applies only to the location_manager role")


class UserUpdate(Input):
    name: Name | UnsetType = UNSET
    role: RoleName | UnsetType = UNSET
    password: Password | UnsetType = UNSET
    location_ids: list[uuid.UUID] | UnsetType = UNSET


class UserOut(msgspec.Struct):
    id: uuid.UUID
    email: str
    name: str
    role: str
    active: bool
    location_ids: list[uuid.UUID]
    last_login_at: datetime | None
    created_at: datetime
