"""Audit trail (insert-only for the app) and the billing lock date, enforced by a trigger.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 01:58:30.251403
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations import tenancy

LOCK_DATE_CHECK = """
CREATE FUNCTION enforce_lock_date() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    locked date;
    old_date date;
    new_date date;
BEGIN
    SELECT lock_date INTO locked FROM tenants
    WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
    IF locked IS NULL THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) USING OLD INTO old_date;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) USING NEW INTO new_date;
    END IF;
    IF old_date <= locked OR new_date <= locked THEN
        RAISE EXCEPTION USING ERRCODE = 'FLLCK',
            MESSAGE = format('The books are locked through %s: this %s is dated %s.',
                             locked, replace(TG_TABLE_NAME, '_', ' '), coalesce(new_date, old_date));
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$
"""
revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.UUID(), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_audit_events_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_tenant_id_created_at", "audit_events", ["tenant_id", "created_at"], unique=False)
    op.create_index(
        "ix_audit_events_tenant_id_object", "audit_events", ["tenant_id", "object_type", "object_id"], unique=False
    )
    op.add_column("tenants", sa.Column("lock_date", sa.Date(), nullable=True))
    # The trail is written and read, never rewritten: the app role may not update or delete it.
    tenancy.protect("audit_events", grants="SELECT, INSERT")
    op.execute(LOCK_DATE_CHECK)
    tenancy.lock_by_date("invoices", "issue_date")


def downgrade() -> None:
    op.execute("DROP TRIGGER invoices_lock_date ON invoices")
    op.execute("DROP FUNCTION enforce_lock_date()")
    tenancy.unprotect("audit_events")
    op.drop_column("tenants", "lock_date")
    op.drop_index("ix_audit_events_tenant_id_object", table_name="audit_events")
    op.drop_index("ix_audit_events_tenant_id_created_at", table_name="audit_events")
    op.drop_table("audit_events")
