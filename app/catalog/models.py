"""What an operator sells and how it is taxed: revenue accounts, tax rates, plans, discounts."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.capture import audited
from app.db.base import Base, TenantOwned

BUILTIN_ACCOUNTS = {
    "membership_fees": ("Membership fees", "MEM"),
    "booking_fees": ("Booking fees", "BOOK"),
    "one_off_fees": ("One-off fees", "FEES"),
    "deposits": ("Deposits", "DEP"),
}


@audited("tax_rate")
class TaxRate(TenantOwned, Base):
    """A tax rate made of one or more components (e.g. GST + PST); archived rates stay on old lines."""

    __tablename__ = "tax_rates"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("status IN ('active', 'archived')", name="status"),
    )

    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="active")


class TaxRateComponent(Base):
    __tablename__ = "tax_rate_components"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "tax_rate_id"], ["tax_rates.tenant_id", "tax_rates.id"], ondelete="CASCADE"),
        CheckConstraint("percent >= 0 AND percent <= 100", name="percent"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tax_rate_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    percent: Mapped[Decimal] = mapped_column(Numeric(8, 4))
    compound: Mapped[bool] = mapped_column(default=False)


@audited("revenue_account")
class RevenueAccount(TenantOwned, Base):
    """Where income is booked; maps to an account code in the operator's ledger."""

    __tablename__ = "revenue_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        Index(
            "uq_revenue_accounts_builtin_kind", "tenant_id", "kind", unique=True, postgresql_where="kind <> 'custom'"
        ),
        CheckConstraint(
            "kind IN ('membership_fees', 'booking_fees', 'one_off_fees', 'deposits', 'custom')", name="kind"
        ),
        ForeignKeyConstraint(["tenant_id", "tax_rate_id"], ["tax_rates.tenant_id", "tax_rates.id"]),
    )

    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(20))
    liability: Mapped[bool] = mapped_column(default=False)
    tax_rate_id: Mapped[uuid.UUID | None]
    active: Mapped[bool] = mapped_column(default=True)


class LocationTaxPolicy(Base):
    """Which tax rate a location charges on a revenue account (overrides the account's own)."""

    __tablename__ = "location_tax_policies"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "revenue_account_id"], ["revenue_accounts.tenant_id", "revenue_accounts.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "tax_rate_id"], ["tax_rates.tenant_id", "tax_rates.id"]),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    location_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    revenue_account_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tax_rate_id: Mapped[uuid.UUID]


@audited("plan")
class Plan(TenantOwned, Base):
    """A recurring product: price per interval, booked to a revenue account."""

    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price"),
        CheckConstraint("interval_months BETWEEN 1 AND 12", name="interval"),
        CheckConstraint("included_credit >= 0 AND deposit >= 0", name="credit_deposit"),
        CheckConstraint("jsonb_typeof(included_time) = 'array'", name="included_time"),
        ForeignKeyConstraint(
            ["tenant_id", "revenue_account_id"], ["revenue_accounts.tenant_id", "revenue_accounts.id"]
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    price: Mapped[int] = mapped_column(BigInteger)
    interval_months: Mapped[int] = mapped_column(SmallInteger, default=1)
    revenue_account_id: Mapped[uuid.UUID]
    prorate: Mapped[bool] = mapped_column(default=True)
    included_credit: Mapped[int] = mapped_column(BigInteger, default=0)
    # Booking time included each period, besides money: [{"unit": "hours" | "days", "resource_kind":
    # a resource kind or null for any, "quantity": minutes for hours, a count for days}]
    # (``app.booking.allowance``).
    included_time: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default="[]")
    deposit: Mapped[int] = mapped_column(BigInteger, default=0)
    active: Mapped[bool] = mapped_column(default=True)


@audited("discount")
class Discount(TenantOwned, Base):
    """A percentage (fractions allowed) or a fixed amount off a charge."""

    __tablename__ = "discounts"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'percent' AND percent > 0 AND percent <= 100 AND amount IS NULL AND currency IS NULL)"
            " OR (kind = 'fixed' AND amount > 0 AND currency IS NOT NULL AND percent IS NULL)",
            name="shape",
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(default=True)
