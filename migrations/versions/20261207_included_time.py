"""Plans include booking time (hours, or days of day-bookable resources, per resource kind or for
any) besides money; a billed booking keeps the included time it used.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("plans", "bookings"):
        column = "included_time" if table == "plans" else "time_credit"
        op.add_column(
            table,
            sa.Column(column, postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        )
    op.create_check_constraint(op.f("ck_plans_included_time"), "plans", "jsonb_typeof(included_time) = 'array'")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_plans_included_time"), "plans", type_="check")
    op.drop_column("bookings", "time_credit")
    op.drop_column("plans", "included_time")
