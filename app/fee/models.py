from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKeyConstraint, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.capture import audited
from app.db.base import Base, TenantOwned


@audited("fee")
class Fee(TenantOwned, Base):
    """A one-off charge (a key card, a printing bill). Billed in arrears: the first run for a
    period that opens after its date puts it on the customer's invoice. It can be waived while
    still pending."""

    __tablename__ = "fees"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'billed', 'waived')", name="status"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_amount >= 0", name="unit_amount"),
        ForeignKeyConstraint(["tenant_id", "company_id"], ["companies.tenant_id", "companies.id"]),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "revenue_account_id"], ["revenue_accounts.tenant_id", "revenue_accounts.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "invoice_line_id"], ["invoice_lines.tenant_id", "invoice_lines.id"]),
        Index("ix_fees_pending", "tenant_id", "location_id", "charge_date", postgresql_where="status = 'pending'"),
    )

    company_id: Mapped[uuid.UUID]
    location_id: Mapped[uuid.UUID]
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    unit_amount: Mapped[int] = mapped_column(BigInteger)
    revenue_account_id: Mapped[uuid.UUID]
    charge_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default="pending")
    waived_reason: Mapped[str | None] = mapped_column(Text)
    invoice_line_id: Mapped[uuid.UUID | None]
