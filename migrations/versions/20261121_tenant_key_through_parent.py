"""Invoices, their lines and billing runs prove their tenant through their parent's composite key.

Each of these rows already has a composite foreign key whose target carries the tenant (an
invoice's and a run's location, a line's invoice), so their own key to tenants only repeated a
check on every row a billing run writes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-21 06:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("invoices", "invoice_lines", "billing_runs")


def upgrade() -> None:
    for table in _TABLES:
        op.drop_constraint(f"fk_{table}_tenant_id_tenants", table, type_="foreignkey")


def downgrade() -> None:
    for table in _TABLES:
        op.create_foreign_key(f"fk_{table}_tenant_id_tenants", table, "tenants", ["tenant_id"], ["id"])
