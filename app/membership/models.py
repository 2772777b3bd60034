from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.capture import audited
from app.db.base import Base, TenantOwned


@audited("membership")
class Membership(TenantOwned, Base):
    """A plan held by a company (and used by a member) at a location, from a start to an optional end.

    Dates are calendar dates in the location's time zone; ``end_date`` is the last day included."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
        CheckConstraint("quantity >= 1", name="quantity"),
        CheckConstraint("price_override IS NULL OR price_override >= 0", name="price_override"),
        ForeignKeyConstraint(["tenant_id", "company_id"], ["companies.tenant_id", "companies.id"]),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "plan_id"], ["plans.tenant_id", "plans.id"]),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        ForeignKeyConstraint(["tenant_id", "discount_id"], ["discounts.tenant_id", "discounts.id"]),
        Index("ix_memberships_tenant_id_location_id_start_date", "tenant_id", "location_id", "start_date"),
        Index("ix_memberships_tenant_id_company_id", "tenant_id", "company_id"),
    )

    company_id: Mapped[uuid.UUID]
    member_id: Mapped[uuid.UUID | None]
    plan_id: Mapped[uuid.UUID]
    location_id: Mapped[uuid.UUID]
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    price_override: Mapped[int | None] = mapped_column(BigInteger)
    discount_id: Mapped[uuid.UUID | None]
    notes: Mapped[str | None] = mapped_column(String(500))
