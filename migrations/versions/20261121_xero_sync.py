"""The Xero sync's outbox (one row per object and organisation, with its Xero id and sync
state) and the journal of every call the sync makes; allocations say which were part of a
payment as it came in (the rest of a payment is credit, an overpayment in Xero).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-21 08:51:56.619897
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import tenancy

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "xero_documents",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("object_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("synced_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("in_doubt", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("xero_id", sa.String(length=64), nullable=True),
        sa.Column("xero_number", sa.String(length=255), nullable=True),
        sa.Column("xero_status", sa.String(length=20), nullable=True),
        sa.Column("error_kind", sa.String(length=12), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("hint", sa.Text(), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('contact', 'invoice', 'credit_note', 'overpayment', 'payment', 'allocation', 'refund')",
            name=op.f("ck_xero_documents_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'synced', 'invalid', 'mismatch')", name=op.f("ck_xero_documents_status")
        ),
        sa.CheckConstraint("synced_version <= version", name=op.f("ck_xero_documents_versions")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["xero_connections.tenant_id", "xero_connections.id"],
            name=op.f("fk_xero_documents_tenant_id_connection_id_xero_connections"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_xero_documents_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_xero_documents")),
        sa.UniqueConstraint(
            "tenant_id",
            "connection_id",
            "kind",
            "object_id",
            name=op.f("uq_xero_documents_tenant_id_connection_id_kind_object_id"),
        ),
    )
    op.create_index(
        "ix_xero_documents_due",
        "xero_documents",
        ["connection_id", "next_attempt_at"],
        unique=False,
        postgresql_where="status = 'pending'",
    )
    op.create_index(
        "ix_xero_documents_leased",
        "xero_documents",
        ["connection_id", "lease_until"],
        unique=False,
        postgresql_where="status = 'sending'",
    )
    op.create_index("ix_xero_documents_tenant_id_object_id", "xero_documents", ["tenant_id", "object_id"], unique=False)
    op.create_table(
        "xero_journal",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=6), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("items", sa.SmallInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["xero_connections.tenant_id", "xero_connections.id"],
            name=op.f("fk_xero_journal_tenant_id_connection_id_xero_connections"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_xero_journal_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_xero_journal")),
    )
    op.create_index(
        "ix_xero_journal_tenant_id_connection_id_at", "xero_journal", ["tenant_id", "connection_id", "at"], unique=False
    )
    op.add_column(
        "allocations", sa.Column("with_receipt", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    tenancy.protect("xero_documents", system_reads=True)
    tenancy.protect("xero_journal")
    # The sweep finds, across tenants, the live connections with something due to send.
    tenancy.system_function(
        "sys_xero_due_connections(p_now timestamptz, p_limit integer)",
        "TABLE(tenant_id uuid, connection_id uuid)",
        "SELECT d.tenant_id, d.connection_id FROM xero_documents d "
        "JOIN xero_connections c ON c.tenant_id = d.tenant_id AND c.id = d.connection_id "
        "WHERE c.status = 'active' AND ((d.status = 'pending' AND d.next_attempt_at <= p_now) "
        "OR (d.status = 'sending' AND d.lease_until <= p_now)) "
        "GROUP BY d.tenant_id, d.connection_id ORDER BY min(d.next_attempt_at) LIMIT p_limit",
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION sys_xero_due_connections(timestamptz, integer)")
    op.drop_index("ix_xero_journal_tenant_id_connection_id_at", table_name="xero_journal")
    op.drop_table("xero_journal")
    op.drop_index("ix_xero_documents_tenant_id_object_id", table_name="xero_documents")
    op.drop_index("ix_xero_documents_leased", table_name="xero_documents", postgresql_where="status = 'sending'")
    op.drop_index("ix_xero_documents_due", table_name="xero_documents", postgresql_where="status = 'pending'")
    op.drop_table("xero_documents")
    op.drop_column("allocations", "with_receipt")
