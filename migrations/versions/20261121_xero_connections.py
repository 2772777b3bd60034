"""Xero connections: the OAuth grants (tokens sealed), the organisations they reach, and each
location's mapping onto one of them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-21 08:10:20.397520
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations import tenancy

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "xero_grants",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("scope", sa.String(length=1000), nullable=False),
        sa.Column("auth_event_id", sa.String(length=64), nullable=True),
        sa.Column("access_token_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("refresh_token_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("connected_by", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('active', 'failed', 'closed')", name=op.f("ck_xero_grants_status")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_xero_grants_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_xero_grants")),
    )
    op.create_table(
        "xero_connections",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("grant_id", sa.UUID(), nullable=False),
        sa.Column("xero_tenant_id", sa.String(length=64), nullable=False),
        sa.Column("xero_connection_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("short_code", sa.String(length=20), nullable=True),
        sa.Column("base_currency", sa.String(length=3), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'needs_reconnect', 'disconnected')", name=op.f("ck_xero_connections_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "grant_id"],
            ["xero_grants.tenant_id", "xero_grants.id"],
            name=op.f("fk_xero_connections_tenant_id_grant_id_xero_grants"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_xero_connections_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_xero_connections")),
        sa.UniqueConstraint("tenant_id", "xero_tenant_id", name=op.f("uq_xero_connections_tenant_id_xero_tenant_id")),
    )
    op.create_table(
        "xero_location_settings",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("account_codes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("tax_types", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("payment_accounts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("tracking_category_id", sa.String(length=64), nullable=True),
        sa.Column("tracking_option_id", sa.String(length=64), nullable=True),
        sa.Column("branding_theme_id", sa.String(length=64), nullable=True),
        sa.Column("invoice_status", sa.String(length=10), nullable=False),
        sa.Column("numbering", sa.String(length=5), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "invoice_status IN ('DRAFT', 'AUTHORISED')", name=op.f("ck_xero_location_settings_invoice_status")
        ),
        sa.CheckConstraint("numbering IN ('ours', 'xero')", name=op.f("ck_xero_location_settings_numbering")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["xero_connections.tenant_id", "xero_connections.id"],
            name=op.f("fk_xero_location_settings_tenant_id_connection_id_xero_connections"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_xero_location_settings_tenant_id_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_xero_location_settings_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_xero_location_settings")),
        sa.UniqueConstraint("tenant_id", "location_id", name=op.f("uq_xero_location_settings_tenant_id_location_id")),
    )
    tenancy.protect("xero_grants", system_reads=True)
    # Re-sealing tokens under a new key walks every tenant's grants (ids only).
    tenancy.system_function(
        "sys_sealed_xero_grants()",
        "TABLE(tenant_id uuid, id uuid)",
        "SELECT tenant_id, id FROM xero_grants WHERE refresh_token_sealed IS NOT NULL OR access_token_sealed IS NOT NULL",
    )
    # The sync sweep looks across tenants for connections with work waiting.
    tenancy.protect("xero_connections", system_reads=True)
    tenancy.protect("xero_location_settings")


def downgrade() -> None:
    op.execute("DROP FUNCTION sys_sealed_xero_grants()")
    op.drop_table("xero_location_settings")
    op.drop_table("xero_connections")
    op.drop_table("xero_grants")
