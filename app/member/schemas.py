from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from app.kit.schema import LINE, Email, Input, Name, Password, Phone


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
    organisation: Annotated[str, Meta(max_length=40, pattern=LINE)]
    email: Email
    password: Password
    device_name: Annotated[str, Meta(max_length=100, pattern=LINE)] | None = None


class MemberTokenOut(msgspec.Struct):
    token: str
    expires_at: datetime


class MyBalance(msgspec.Struct):
    """What the member's billing account owes on open invoices, and the credit it holds."""

    outstanding: int
    credit: int
