from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.capture import audited
from app.db.base import Base, Timestamps
from app.kit.ids import new_id


@audited("tenant")
class Tenant(Timestamps, Base):
    """An operator: the unit of isolation."""

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("slug ~ '^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$'", name="slug_format"),
        CheckConstraint("status IN ('active', 'suspended')", name="status"),
        CheckConstraint("invoice_grouping IN ('company', 'split')", name="invoice_grouping"),
        CheckConstraint("invoice_location IN ('location', 'home')", name="invoice_location"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")
    support_email: Mapped[str | None] = mapped_column(String(320))
    default_currency: Mapped[str] = mapped_column(String(3))
    default_country: Mapped[str] = mapped_column(String(2))
    default_time_zone: Mapped[str] = mapped_column(String(64))
    # Billing runs leave drafts for review, or issue the invoices straight away.
    issue_on_run: Mapped[bool] = mapped_column(default=False)
    # One invoice per company and run, or one for memberships (and deposits) and one for the rest.
    invoice_grouping: Mapped[str] = mapped_column(String(10), default="company")
    # Each location invoices what was used there, or a company's home location invoices all of it.
    invoice_location: Mapped[str] = mapped_column(String(10), default="location")
    # Nothing dated on or before this day can be created or changed (enforced in the database).
    lock_date: Mapped[date | None]
