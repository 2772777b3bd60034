"""The bookings overlap check runs only when a booking takes time on a resource anew (inserted,
moved, or brought back from cancelled), not when billing marks it billed: billing must not lock
the resources of every booking it bills.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21 04:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNCHANGED = """
    IF TG_OP = 'UPDATE' AND OLD.status <> 'cancelled' AND NEW.resource_id = OLD.resource_id
       AND NEW.starts_at = OLD.starts_at AND NEW.ends_at = OLD.ends_at THEN
        RETURN NEW;
    END IF;"""

CHECK = """
CREATE OR REPLACE FUNCTION bookings_no_overlap() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clash record;
BEGIN
    IF NEW.status = 'cancelled' THEN
        RETURN NEW;
    END IF;{unchanged}
    PERFORM 1 FROM resources WHERE tenant_id = NEW.tenant_id AND id = NEW.resource_id FOR UPDATE;
    SELECT id, starts_at, ends_at INTO clash FROM bookings
    WHERE tenant_id = NEW.tenant_id AND resource_id = NEW.resource_id AND id <> NEW.id
      AND status <> 'cancelled' AND starts_at < NEW.ends_at AND ends_at > NEW.starts_at
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'FLOVL',
            MESSAGE = format('The resource is already booked from %s to %s.', clash.starts_at, clash.ends_at);
    END IF;
    RETURN NEW;
END $$
"""


def upgrade() -> None:
    op.execute(CHECK.replace("{unchanged}", UNCHANGED))


def downgrade() -> None:
    op.execute(CHECK.replace("{unchanged}", ""))
