"""Bookable resources and their bookings.

A booking's time range is stored as UTC instants; ``meeting_date`` is the calendar date the
booking starts on where the location is, which is what billing and included credits go by. The
gross price is fixed when the booking is made (a later rate change does not reprice it); the
discount and included credits are applied when it is billed, in that order."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKeyConstraint, Index, Integer, SmallInteger, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.capture import audited
from app.db.base import Base, TenantOwned

RESOURCE_KINDS = ("meeting_room", "desk", "office", "event_space", "other")


@audited("resource")
class Resource(TenantOwned, Base):
    """A meeting room, desk or office that can be booked, priced by the hour and/or by the day
    (a day rate caps what the hours of one day cost)."""

    __tablename__ = "resources"
    __table_args__ = (
        CheckConstraint(f"kind IN {RESOURCE_KINDS}", name="kind"),
        CheckConstraint(
            "(hourly_rate IS NOT NULL OR daily_rate IS NOT NULL) "
            "AND coalesce(hourly_rate, 0) >= 0 AND coalesce(daily_rate, 0) >= 0",
            name="rates",
        ),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity"),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "revenue_account_id"], ["revenue_accounts.tenant_id", "revenue_accounts.id"]
        ),
        Index("uq_resources_location_name", "tenant_id", "location_id", "name", unique=True),
    )

    location_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    hourly_rate: Mapped[int | None] = mapped_column(BigInteger)
    daily_rate: Mapped[int | None] = mapped_column(BigInteger)
    revenue_account_id: Mapped[uuid.UUID]
    capacity: Mapped[int | None] = mapped_column(SmallInteger)
    active: Mapped[bool] = mapped_column(default=True)


@audited("booking")
class Booking(TenantOwned, Base):
    """A resource taken by a company (for one of its members) over a time range."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="range"),
        CheckConstraint("status IN ('confirmed', 'cancelled', 'billed')", name="status"),
        CheckConstraint("price >= 0 AND credit_used >= 0 AND credit_used <= price", name="amounts"),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        ForeignKeyConstraint(["tenant_id", "resource_id"], ["resources.tenant_id", "resources.id"]),
        ForeignKeyConstraint(["tenant_id", "company_id"], ["companies.tenant_id", "companies.id"]),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "discount_id"], ["discounts.tenant_id", "discounts.id"]),
        ForeignKeyConstraint(["tenant_id", "invoice_line_id"], ["invoice_lines.tenant_id", "invoice_lines.id"]),
        Index("ix_bookings_resource_time", "tenant_id", "resource_id", "starts_at"),
        Index(
            "ix_bookings_unbilled",
            "tenant_id",
            "location_id",
            "meeting_date",
            postgresql_where="status = 'confirmed'",
        ),
        Index("ix_bookings_company_date", "tenant_id", "company_id", "meeting_date"),
    )

    location_id: Mapped[uuid.UUID]
    resource_id: Mapped[uuid.UUID]
    company_id: Mapped[uuid.UUID]
    member_id: Mapped[uuid.UUID | None]
    title: Mapped[str | None] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    meeting_date: Mapped[date]
    minutes: Mapped[int] = mapped_column(Integer)
    price: Mapped[int] = mapped_column(BigInteger)
    pricing: Mapped[dict[str, Any]] = mapped_column(JSONB)
    discount_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(10), default="confirmed")
    cancelled_reason: Mapped[str | None] = mapped_column(String(500))
    credit_used: Mapped[int] = mapped_column(BigInteger, default=0)
    # The included time it used when billed: [{"unit", "resource_kind", "quantity", "value"}] (the
    # value, in minor units, is what that time paid of the price; ``app.booking.allowance``).
    time_credit: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default="[]")
    invoice_line_id: Mapped[uuid.UUID | None]
