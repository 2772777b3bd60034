"""Billing runs and the ledger that makes them idempotent."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.capture import audited
from app.db.base import Base, TenantOwned


@audited("billing_run")
class BillingRun(TenantOwned, Base):
    """One run (or preview) of billing for a location and period, and what it produced."""

    __tablename__ = "billing_runs"
    tenant_proven_by_parent = True
    __table_args__ = (
        CheckConstraint("status IN ('running', 'completed', 'failed')", name="status"),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
    )

    location_id: Mapped[uuid.UUID]
    period_start: Mapped[date]
    period_end: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default="running")
    invoices_created: Mapped[int] = mapped_column(Integer, default=0)
    lines_created: Mapped[int] = mapped_column(Integer, default=0)
    started_by: Mapped[str] = mapped_column(String(100))
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class BillingItem(Base):
    """A billable thing charged for a period: the key is the guarantee that it is charged once.

    Runs claim items with INSERT ... ON CONFLICT DO NOTHING before writing any line, so a repeated
    or concurrent run finds the item taken and bills nothing for it."""

    __tablename__ = "billing_items"
    __table_args__ = (
        CheckConstraint("source_type IN ('membership', 'fee', 'booking', 'deposit')", name="source_type"),
        # Deferred: a run claims its periods (naming the lines it will write) before writing them.
        ForeignKeyConstraint(
            ["tenant_id", "invoice_line_id"],
            ["invoice_lines.tenant_id", "invoice_lines.id"],
            deferrable=True,
            initially="DEFERRED",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "billing_run_id"],
            ["billing_runs.tenant_id", "billing_runs.id"],
            deferrable=True,
            initially="DEFERRED",
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    source_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    source_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    period_start: Mapped[date] = mapped_column(primary_key=True)
    period_end: Mapped[date]
    billing_run_id: Mapped[uuid.UUID]
    invoice_line_id: Mapped[uuid.UUID | None]
