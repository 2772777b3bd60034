"""The lock date lets settlement through: paying, crediting or writing off an invoice from a locked
period changes only its status and version, which is allowed (the money movement itself carries
its own date and is checked on its own). Voiding, or any other change, stays refused.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE OR REPLACE FUNCTION enforce_lock_date() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    locked date;
    old_date date;
    new_date date;
    settled text[] := ARRAY['status', 'version', 'updated_at'];
BEGIN
    SELECT lock_date INTO locked FROM tenants
    WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
    IF locked IS NULL THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'UPDATE' AND coalesce(to_jsonb(NEW) ->> 'status', '') <> 'void'
       AND (to_jsonb(OLD) - settled) = (to_jsonb(NEW) - settled) THEN
        RETURN NEW;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) USING OLD INTO old_date;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) USING NEW INTO new_date;
    END IF;
    IF old_date <= locked OR new_date <= locked THEN
        RAISE EXCEPTION USING ERRCODE = 'FLLCK',
            MESSAGE = format('The books are locked through %s: a document dated %s cannot be added or changed.',
                             locked, coalesce(new_date, old_date));
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$
"""

PREVIOUS = """
CREATE OR REPLACE FUNCTION enforce_lock_date() RETURNS trigger LANGUAGE plpgsql AS $$
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


def upgrade() -> None:
    op.execute(FUNCTION)


def downgrade() -> None:
    op.execute(PREVIOUS)
