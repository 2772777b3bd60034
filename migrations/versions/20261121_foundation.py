"""Foundation: tenants, locations, operator users, members, API keys, member tokens, e-mail outbox.

Every tenant table sits behind row-level security; the only cross-tenant reads are the sys_* functions.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 01:04:28.270101
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations import tenancy

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TENANT_TABLES = (
    "locations",
    "users",
    "user_locations",
    "members",
    "member_tokens",
    "api_keys",
    "emails",
)
SYSTEM_READ = ("members", "member_tokens", "api_keys", "emails")


def upgrade() -> None:
    tenancy.create_roles()
    op.create_table(
        "tenants",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("support_email", sa.String(length=320), nullable=True),
        sa.Column("default_currency", sa.String(length=3), nullable=False),
        sa.Column("default_country", sa.String(length=2), nullable=False),
        sa.Column("default_time_zone", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$'",
            name=op.f("ck_tenants_slug_format"),
        ),
        sa.CheckConstraint("status IN ('active', 'suspended')", name=op.f("ck_tenants_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenants_slug")),
    )
    op.create_table(
        "emails",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("status IN ('queued', 'sent', 'failed')", name=op.f("ck_emails_status")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_emails_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_emails")),
    )
    op.create_index(
        "ix_emails_queued",
        "emails",
        ["updated_at"],
        unique=False,
        postgresql_where="status = 'queued'",
    )
    op.create_table(
        "locations",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tax_mode", sa.String(length=10), nullable=False),
        sa.Column("billing_day", sa.SmallInteger(), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("tax_mode IN ('inclusive', 'exclusive')", name=op.f("ck_locations_tax_mode")),
        sa.CheckConstraint("billing_day BETWEEN 1 AND 28", name=op.f("ck_locations_billing_day")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_locations_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_locations")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_locations_tenant_id_code")),
    )
    op.create_table(
        "users",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role IN ('owner', 'admin', 'finance', 'location_manager')",
            name=op.f("ck_users_role"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_users_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_users")),
        sa.UniqueConstraint("tenant_id", "email", name=op.f("uq_users_tenant_id_email")),
    )
    op.create_table(
        "api_keys",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("created_by_user_id", sa.UUID(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "created_by_user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_api_keys_tenant_id_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_api_keys_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_table(
        "members",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_members_tenant_id_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_members_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_members")),
        sa.UniqueConstraint("tenant_id", "email", name=op.f("uq_members_tenant_id_email")),
    )
    op.create_index(
        "ix_members_tenant_id_location_id",
        "members",
        ["tenant_id", "location_id"],
        unique=False,
    )
    op.create_table(
        "user_locations",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_user_locations_tenant_id_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_user_locations_tenant_id_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", "location_id", name=op.f("pk_user_locations")),
    )
    op.create_table(
        "member_tokens",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("device_name", sa.String(length=100), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_member_tokens_tenant_id_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_member_tokens_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_member_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_member_tokens_digest")),
    )
    tenancy.protect("tenants", key="id", system_reads=True)
    for table in TENANT_TABLES:
        tenancy.protect(table, system_reads=table in SYSTEM_READ)
    tenancy.system_function(
        "sys_tenant_by_slug(p_slug text)",
        "TABLE(id uuid, status text)",
        "SELECT id, status FROM tenants WHERE slug = p_slug",
    )
    tenancy.system_function(
        "sys_api_key_by_prefix(p_prefix text)",
        "TABLE(tenant_id uuid, id uuid, digest bytea, scopes text[], expires_at timestamptz, "
        "revoked_at timestamptz, tenant_status text)",
        "SELECT k.tenant_id, k.id, k.digest, k.scopes::text[], k.expires_at, k.revoked_at, t.status "
        "FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.prefix = p_prefix",
    )
    tenancy.system_function(
        "sys_member_token_by_digest(p_digest bytea)",
        "TABLE(tenant_id uuid, id uuid, member_id uuid, expires_at timestamptz, revoked_at timestamptz, "
        "member_active boolean, tenant_status text)",
        "SELECT mt.tenant_id, mt.id, mt.member_id, mt.expires_at, mt.revoked_at, m.active, t.status "
        "FROM member_tokens mt JOIN members m ON m.tenant_id = mt.tenant_id AND m.id = mt.member_id "
        "JOIN tenants t ON t.id = mt.tenant_id WHERE mt.digest = p_digest",
    )
    tenancy.system_function(
        "sys_queued_emails(p_before timestamptz, p_limit integer)",
        "TABLE(tenant_id uuid, id uuid)",
        "SELECT tenant_id, id FROM emails WHERE status = 'queued' AND updated_at < p_before "
        "ORDER BY updated_at LIMIT p_limit",
    )


def downgrade() -> None:
    for function in (
        "sys_queued_emails(timestamptz, integer)",
        "sys_member_token_by_digest(bytea)",
        "sys_api_key_by_prefix(text)",
        "sys_tenant_by_slug(text)",
    ):
        op.execute(f"DROP FUNCTION {function}")
    for table in (*TENANT_TABLES, "tenants"):
        tenancy.unprotect(table)
    op.drop_table("member_tokens")
    op.drop_table("user_locations")
    op.drop_index("ix_members_tenant_id_location_id", table_name="members")
    op.drop_table("members")
    op.drop_table("api_keys")
    op.drop_table("users")
    op.drop_table("locations")
    op.drop_index("ix_emails_queued", table_name="emails", postgresql_where="status = 'queued'")
    op.drop_table("emails")
    op.drop_table("tenants")
    tenancy.drop_roles_grants()
