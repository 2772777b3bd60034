"""References to a billing run are checked at commit: a run writes its own row last, once it
knows what it did (one insert instead of an insert and an update).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 03:42:14.714729
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERENCES = {
    "billing_items": "fk_billing_items_tenant_id_billing_run_id_billing_runs",
    "invoices": "fk_invoices_tenant_id_billing_run_id_billing_runs",
}


def upgrade() -> None:
    for table, name in REFERENCES.items():
        op.execute(f"ALTER TABLE {table} ALTER CONSTRAINT {name} DEFERRABLE INITIALLY DEFERRED")


def downgrade() -> None:
    for table, name in REFERENCES.items():
        op.execute(f"ALTER TABLE {table} ALTER CONSTRAINT {name} NOT DEFERRABLE")
