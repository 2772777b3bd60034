from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

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
