from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.capture import audited
from app.db.base import Base, TenantOwned


@audited("company")
class Company(TenantOwned, Base):
    """A billing account: who invoices are addressed to. ``kind='person'`` bills a member directly."""

    __tablename__ = "companies"
    __table_args__ = (
        UniqueConstraint("tenant_id", "legal_name", "kind"),
        CheckConstraint("kind IN ('company', 'person')", name="kind"),
        CheckConstraint("payment_terms_days BETWEEN 0 AND 365", name="terms"),
        ForeignKeyConstraint(["tenant_id", "home_location_id"], ["locations.tenant_id", "locations.id"]),
        ForeignKeyConstraint(["tenant_id", "tax_rate_id"], ["tax_rates.tenant_id", "tax_rates.id"]),
    )

    kind: Mapped[str] = mapped_column(String(10), default="company")
    legal_name: Mapped[str] = mapped_column(String(200))
    billing_email: Mapped[str] = mapped_column(String(320))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    tax_number: Mapped[str | None] = mapped_column(String(50))
    currency: Mapped[str] = mapped_column(String(3))
    payment_terms_days: Mapped[int] = mapped_column(SmallInteger, default=14)
    # Overrides every other tax rule for this customer (e.g. exempt or reverse charge).
    tax_rate_id: Mapped[uuid.UUID | None]
    auto_charge: Mapped[bool] = mapped_column(default=False)
    home_location_id: Mapped[uuid.UUID]
    active: Mapped[bool] = mapped_column(default=True)
