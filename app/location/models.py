from __future__ import annotations

from sqlalchemy import CheckConstraint, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.capture import audited
from app.db.base import Base, TenantOwned


@audited("location")
class Location(TenantOwned, Base):
    """A site of the operator; billing dates are computed in its time zone."""

    __tablename__ = "locations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint("tax_mode IN ('inclusive', 'exclusive')", name="tax_mode"),
        CheckConstraint("billing_day BETWEEN 1 AND 28", name="billing_day"),
    )

    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(10))
    time_zone: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    tax_mode: Mapped[str] = mapped_column(String(10))
    billing_day: Mapped[int] = mapped_column(SmallInteger, default=1)
    address: Mapped[str | None] = mapped_column(String(500))
    # e.g. "LON-{number:06}"; the only field is the location's next sequence number.
    invoice_number_template: Mapped[str] = mapped_column(String(60))
    credit_note_number_template: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(default=True)
