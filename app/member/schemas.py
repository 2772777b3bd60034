from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType

from app.kit.schema import Email, Input, Name, Password, Phone


class MemberCreate(Input):
    email: Email
    name: Name
    location_id: uuid.UUID
    phone: Phone | None = None
    password: Password | None = None
    send_welcome: bool = True


class MemberUpdate(Input):
    email: Email | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    location_id: uuid.UUID | UnsetType = UNSET
    phone: Phone | UnsetType | None = UNSET
    password: Password | UnsetType = UNSET


class MemberSelfUpdate(Input):
    """What members may change about themselves from the portal or the app."""

    name: Name | UnsetType = UNSET
    phone: Phone | UnsetType | None = UNSET


class MemberOut(msgspec.Struct):
    id: uuid.UUID
    email: str
    name: str
    phone: str | None
    location_id: uuid.UUID
    active: bool
    created_at: datetime
    updated_at: datetime


class MemberTokenCreate(Input):
    organisation: str
    email: Email
    password: Password
    device_name: str | None = None


class MemberTokenOut(msgspec.Struct):
    token: str
    expires_at: datetime
