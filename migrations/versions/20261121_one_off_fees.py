"""One-off fees, billed in arrears and claimed in billing_items like membership periods.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 02:58:12.637438
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import tenancy

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fees",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("company_id", sa.UUID(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("unit_amount", sa.BigInteger(), nullable=False),
        sa.Column("revenue_account_id", sa.UUID(), nullable=False),
        sa.Column("charge_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("waived_reason", sa.Text(), nullable=True),
        sa.Column("invoice_line_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'billed', 'waived')", name=op.f("ck_fees_status")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_fees_quantity")),
        sa.CheckConstraint("unit_amount >= 0", name=op.f("ck_fees_unit_amount")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "company_id"],
            ["companies.tenant_id", "companies.id"],
            name=op.f("fk_fees_tenant_id_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_line_id"],
            ["invoice_lines.tenant_id", "invoice_lines.id"],
            name=op.f("fk_fees_tenant_id_invoice_line_id_invoice_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_fees_tenant_id_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "revenue_account_id"],
            ["revenue_accounts.tenant_id", "revenue_accounts.id"],
            name=op.f("fk_fees_tenant_id_revenue_account_id_revenue_accounts"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_fees_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_fees")),
    )
    op.create_index(
        "ix_fees_pending",
        "fees",
        ["tenant_id", "location_id", "charge_date"],
        unique=False,
        postgresql_where="status = 'pending'",
    )
    tenancy.protect("fees")
    op.drop_constraint(op.f("ck_billing_items_source_type"), "billing_items", type_="check")
    op.create_check_constraint(
        op.f("ck_billing_items_source_type"), "billing_items", "source_type IN ('membership', 'fee')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM billing_items WHERE source_type = 'fee'")
    op.drop_constraint(op.f("ck_billing_items_source_type"), "billing_items", type_="check")
    op.create_check_constraint(op.f("ck_billing_items_source_type"), "billing_items", "source_type IN ('membership')")
    tenancy.unprotect("fees")
    op.drop_index("ix_fees_pending", table_name="fees", postgresql_where="status = 'pending'")
    op.drop_table("fees")
