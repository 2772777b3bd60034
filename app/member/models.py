from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.capture import audited
from app.db.base import Base, TenantOwned


@audited("member")
class Member(TenantOwned, Base):
    """A person who uses the space and signs in to the member portal."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        Index("ix_members_tenant_id_location_id", "tenant_id", "location_id"),
        ForeignKeyConstraint(["tenant_id", "company_id"], ["companies.tenant_id", "companies.id"]),
    )

    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    location_id: Mapped[uuid.UUID]
    # The billing account the member's charges go to (a company, or their own personal account).
    company_id: Mapped[uuid.UUID | None]
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]


class MemberToken(TenantOwned, Base):
    """A bearer token of the member mobile API; only its SHA-256 digest is stored."""

    __tablename__ = "member_tokens"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("digest"),
    )

    member_id: Mapped[uuid.UUID]
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    device_name: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
