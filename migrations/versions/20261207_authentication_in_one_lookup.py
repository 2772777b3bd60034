"""Authentication answers from one look-up: the credential's last use (so a request writes it
only when it is stale) and, for an API key, the role of the active user who made it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 15:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

from migrations import tenancy

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

API_KEY = "sys_api_key_by_prefix(p_prefix text)"
MEMBER_TOKEN = "sys_member_token_by_digest(p_digest bytea)"  # noqa: S105 - a function, not a secret


def upgrade() -> None:
    # The key look-up reads its creator's role; only the columns it needs, never a password hash.
    op.execute(f"CREATE POLICY system_read ON users FOR SELECT TO {tenancy.SYSTEM_ROLE} USING (true)")
    op.execute(f"GRANT SELECT (tenant_id, id, role, active) ON users TO {tenancy.SYSTEM_ROLE}")
    op.execute("DROP FUNCTION sys_api_key_by_prefix(text)")
    op.execute("DROP FUNCTION sys_member_token_by_digest(bytea)")
    tenancy.system_function(
        API_KEY,
        "TABLE(tenant_id uuid, id uuid, digest bytea, scopes text[], expires_at timestamptz, "
        "revoked_at timestamptz, tenant_status text, last_used_at timestamptz, creator_role text)",
        "SELECT k.tenant_id, k.id, k.digest, k.scopes::text[], k.expires_at, k.revoked_at, t.status, "
        "k.last_used_at, u.role "
        "FROM api_keys k JOIN tenants t ON t.id = k.tenant_id "
        "LEFT JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.created_by_user_id AND u.active "
        "WHERE k.prefix = p_prefix",
    )
    tenancy.system_function(
        MEMBER_TOKEN,
        "TABLE(tenant_id uuid, id uuid, member_id uuid, expires_at timestamptz, revoked_at timestamptz, "
        "member_active boolean, tenant_status text, last_used_at timestamptz)",
        "SELECT mt.tenant_id, mt.id, mt.member_id, mt.expires_at, mt.revoked_at, m.active, t.status, "
        "mt.last_used_at "
        "FROM member_tokens mt JOIN members m ON m.tenant_id = mt.tenant_id AND m.id = mt.member_id "
        "JOIN tenants t ON t.id = mt.tenant_id WHERE mt.digest = p_digest",
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION sys_api_key_by_prefix(text)")
    op.execute("DROP FUNCTION sys_member_token_by_digest(bytea)")
    op.execute(f"REVOKE SELECT (tenant_id, id, role, active) ON users FROM {tenancy.SYSTEM_ROLE}")
    op.execute("DROP POLICY system_read ON users")
    tenancy.system_function(
        API_KEY,
        "TABLE(tenant_id uuid, id uuid, digest bytea, scopes text[], expires_at timestamptz, "
        "revoked_at timestamptz, tenant_status text)",
        "SELECT k.tenant_id, k.id, k.digest, k.scopes::text[], k.expires_at, k.revoked_at, t.status "
        "FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.prefix = p_prefix",
    )
    tenancy.system_function(
        MEMBER_TOKEN,
        "TABLE(tenant_id uuid, id uuid, member_id uuid, expires_at timestamptz, revoked_at timestamptz, "
        "member_active boolean, tenant_status text)",
        "SELECT mt.tenant_id, mt.id, mt.member_id, mt.expires_at, mt.revoked_at, m.active, t.status "
        "FROM member_tokens mt JOIN members m ON m.tenant_id = mt.tenant_id AND m.id = mt.member_id "
        "JOIN tenants t ON t.id = mt.tenant_id WHERE mt.digest = p_digest",
    )
