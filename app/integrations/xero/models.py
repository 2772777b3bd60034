"""Xero connections of a tenant: the OAuth grants behind them and each location's mapping.

A grant is one consent by one Xero user: a pair of tokens that can reach one or more Xero
organisations. Each organisation reached is a connection of the tenant; a location is synced to
one connection, with its own account codes, tax types and other choices.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.capture import audited
from app.db.base import Base, TenantOwned

INVOICE_STATUSES = ("DRAFT", "AUTHORISED")
NUMBERING = ("ours", "xero")


class XeroGrant(TenantOwned, Base):
    """One consent's tokens, sealed with the token keys. ``active`` while Xero accepts them;
    ``failed`` once a refresh was refused (the operator must reconnect); ``closed`` once nothing
    uses it any more (its tokens are wiped)."""

    __tablename__ = "xero_grants"
    __table_args__ = (CheckConstraint("status IN ('active', 'failed', 'closed')", name="status"),)

    status: Mapped[str] = mapped_column(String(10), default="active")
    scope: Mapped[str] = mapped_column(String(1000))
    auth_event_id: Mapped[str | None] = mapped_column(String(64))
    access_token_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_token_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    access_expires_at: Mapped[datetime | None]
    refreshed_at: Mapped[datetime]
    problem: Mapped[str | None] = mapped_column(Text)
    connected_by: Mapped[uuid.UUID | None]


@audited("xero_connection")
class XeroConnection(TenantOwned, Base):
    """A Xero organisation the tenant syncs to. ``needs_reconnect`` pauses its sync until the
    operator consents again; ``disconnected`` stops it for good (our data and Xero ids stay)."""

    __tablename__ = "xero_connections"
    __table_args__ = (
        UniqueConstraint("tenant_id", "xero_tenant_id"),
        CheckConstraint("status IN ('active', 'needs_reconnect', 'disconnected')", name="status"),
        ForeignKeyConstraint(["tenant_id", "grant_id"], ["xero_grants.tenant_id", "xero_grants.id"]),
    )

    grant_id: Mapped[uuid.UUID]
    xero_tenant_id: Mapped[str] = mapped_column(String(64))
    xero_connection_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    short_code: Mapped[str | None] = mapped_column(String(20))
    base_currency: Mapped[str | None] = mapped_column(String(3))
    country: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(20), default="active")
    problem: Mapped[str | None] = mapped_column(Text)
    connected_at: Mapped[datetime]


@audited("xero_location_settings")
class XeroLocationSettings(TenantOwned, Base):
    """How one location's documents go to Xero. The maps are keyed by our ids (or payment method)
    and hold Xero's codes; the readiness check compares them with the organisation's live data."""

    __tablename__ = "xero_location_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "location_id"),
        CheckConstraint(f"invoice_status IN {INVOICE_STATUSES}", name="invoice_status"),
        CheckConstraint(f"numbering IN {NUMBERING}", name="numbering"),
        ForeignKeyConstraint(["tenant_id", "location_id"], ["locations.tenant_id", "locations.id"]),
        ForeignKeyConstraint(["tenant_id", "connection_id"], ["xero_connections.tenant_id", "xero_connections.id"]),
    )

    location_id: Mapped[uuid.UUID]
    connection_id: Mapped[uuid.UUID]
    # revenue account id -> Xero account code (absent: the revenue account's own code)
    account_codes: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    # tax rate id (or "none" for untaxed lines) -> Xero TaxType
    tax_types: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    # payment method -> code of the Xero account payments by that method are put in
    payment_accounts: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    tracking_category_id: Mapped[str | None] = mapped_column(String(64))
    tracking_option_id: Mapped[str | None] = mapped_column(String(64))
    branding_theme_id: Mapped[str | None] = mapped_column(String(64))
    invoice_status: Mapped[str] = mapped_column(String(10), default="AUTHORISED")
    numbering: Mapped[str] = mapped_column(String(5), default="ours")
