"""Xero connections of a tenant: the OAuth grants behind them and each location's mapping.

A grant is one consent by one Xero user: a pair of tokens that can reach one or more Xero
organisations. Each organisation reached is a connection of the tenant; a location is synced to
one connection, with its own account codes, tax types and other choices.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
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


# What we send, in the order it must reach Xero: a document needs its contact, a payment or an
# allocation needs its invoice (and the credit it spends) to be there first.
DOCUMENT_KINDS = ("contact", "invoice", "credit_note", "overpayment", "payment", "allocation", "refund")
DOCUMENT_STATUSES = ("pending", "sending", "synced", "invalid", "mismatch")


class XeroDocument(TenantOwned, Base):
    """One of our objects as it stands in one Xero organisation: the outbox row and the link in one.

    A change to the object raises ``version`` in the same transaction as the change (that is the
    outbox); the drain sends it and records ``synced_version``. ``object_id`` is a company
    (contact), an invoice, a credit note, a payment (its unapplied rest, sent as an overpayment)
    or an allocation (a payment of an invoice, credit applied to one, or a refund).

    ``pending``: waits for the drain (``next_attempt_at``). ``sending``: claimed by a drain until
    ``lease_until``; a lease that ran out means the drain died mid-call, so the object is
    ``in_doubt``. ``in_doubt``: a send may have reached Xero without our hearing back; it is looked
    up before it is sent again. ``invalid``: Xero (or our own check) refused it; it waits for the
    operator's fix. ``mismatch``: it is in Xero, but Xero's totals differ from ours."""

    __tablename__ = "xero_documents"
    __table_args__ = (
        UniqueConstraint("tenant_id", "connection_id", "kind", "object_id"),
        CheckConstraint(f"kind IN {DOCUMENT_KINDS}", name="kind"),
        CheckConstraint(f"status IN {DOCUMENT_STATUSES}", name="status"),
        CheckConstraint("synced_version <= version", name="versions"),
        ForeignKeyConstraint(["tenant_id", "connection_id"], ["xero_connections.tenant_id", "xero_connections.id"]),
        Index("ix_xero_documents_due", "connection_id", "next_attempt_at", postgresql_where="status = 'pending'"),
        Index("ix_xero_documents_leased", "connection_id", "lease_until", postgresql_where="status = 'sending'"),
        Index("ix_xero_documents_tenant_id_object_id", "tenant_id", "object_id"),
    )

    connection_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(12))
    object_id: Mapped[uuid.UUID]
    version: Mapped[int] = mapped_column(Integer, default=1)
    synced_version: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    in_doubt: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    xero_id: Mapped[str | None] = mapped_column(String(64))
    xero_number: Mapped[str | None] = mapped_column(String(255))
    xero_status: Mapped[str | None] = mapped_column(String(20))
    # validation (the operator must fix something), transient (retried), auth, waiting (a
    # document it needs is not in Xero yet), mismatch (Xero's totals differ from ours)
    error_kind: Mapped[str | None] = mapped_column(String(12))
    error: Mapped[str | None] = mapped_column(Text)
    hint: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None]


class XeroJournalEntry(TenantOwned, Base):
    """One call the sync made to Xero: what was asked, what came back, how long it took."""

    __tablename__ = "xero_journal"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "connection_id"], ["xero_connections.tenant_id", "xero_connections.id"]),
        Index("ix_xero_journal_tenant_id_connection_id_at", "tenant_id", "connection_id", "at"),
    )

    connection_id: Mapped[uuid.UUID]
    at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(6))
    path: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(12))
    items: Mapped[int] = mapped_column(SmallInteger)
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    # the HTTP status, or none when no complete answer came back
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    outcome: Mapped[str] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
