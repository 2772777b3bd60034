"""E-mail retries back off (next_attempt_at) and the sweep picks what is due; schema hardening.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 01:46:50.535059
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import tenancy

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "emails",
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.drop_index(op.f("ix_emails_queued"), table_name="emails", postgresql_where="((status)::text = 'queued'::text)")
    op.create_index("ix_emails_due", "emails", ["next_attempt_at"], unique=False, postgresql_where="status = 'queued'")
    op.execute("DROP FUNCTION sys_queued_emails(timestamptz, integer)")
    tenancy.system_function(
        "sys_due_emails(p_now timestamptz, p_limit integer)",
        "TABLE(tenant_id uuid, id uuid)",
        "SELECT tenant_id, id FROM emails WHERE status = 'queued' AND next_attempt_at <= p_now "
        "ORDER BY next_attempt_at LIMIT p_limit",
    )
    # Nobody but the owner creates objects in the schema: a function or operator planted there
    # by the app role could otherwise be picked up by the SECURITY DEFINER lookups.
    op.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")


def downgrade() -> None:
    op.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
    op.execute("DROP FUNCTION sys_due_emails(timestamptz, integer)")
    tenancy.system_function(
        "sys_queued_emails(p_before timestamptz, p_limit integer)",
        "TABLE(tenant_id uuid, id uuid)",
        "SELECT tenant_id, id FROM emails WHERE status = 'queued' AND updated_at < p_before "
        "ORDER BY updated_at LIMIT p_limit",
    )
    op.drop_index("ix_emails_due", table_name="emails", postgresql_where="status = 'queued'")
    op.create_index(
        op.f("ix_emails_queued"),
        "emails",
        ["updated_at"],
        unique=False,
        postgresql_where="((status)::text = 'queued'::text)",
    )
    op.drop_column("emails", "next_attempt_at")
