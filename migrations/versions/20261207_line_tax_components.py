"""Each invoice and credit-note line taxed at a rate of several components keeps its tax split
between them (e.g. GST and PST), each part in minor units, as it was charged.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 16:29:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import tenancy

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = (("invoice_line_taxes", "invoice_lines"), ("credit_note_line_taxes", "credit_note_lines"))


def upgrade() -> None:
    for table, lines in _TABLES:
        op.create_table(
            table,
            sa.Column("tenant_id", sa.UUID(), nullable=False),
            sa.Column("line_id", sa.UUID(), nullable=False),
            sa.Column("position", sa.SmallInteger(), nullable=False),
            sa.Column("name", sa.String(length=50), nullable=False),
            sa.Column("percent", sa.Numeric(precision=8, scale=4), nullable=False),
            sa.Column("compound", sa.Boolean(), nullable=False),
            sa.Column("amount", sa.BigInteger(), nullable=False),
            sa.ForeignKeyConstraint(
                ["tenant_id", "line_id"],
                [f"{lines}.tenant_id", f"{lines}.id"],
                name=op.f(f"fk_{table}_tenant_id_line_id_{lines}"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("tenant_id", "line_id", "position", name=op.f(f"pk_{table}")),
        )
        tenancy.protect(table)


def downgrade() -> None:
    for table, _ in reversed(_TABLES):
        tenancy.unprotect(table)
        op.drop_table(table)
