"""Ledger: payments, refunds, write-offs, credit notes and the allocations that apply them;
idempotency keys for money-moving requests; credit notes numbered per location.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 02:06:08.360990
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations import tenancy

NEW_TABLES = (
    "idempotency_keys",
    "payments",
    "refunds",
    "write_offs",
    "credit_notes",
    "credit_note_lines",
    "allocations",
)
DATED = (
    ("payments", "paid_on"),
    ("refunds", "refunded_on"),
    ("write_offs", "written_off_on"),
    ("credit_notes", "issue_date"),
    ("allocations", "allocated_on"),
)
revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_idempotency_keys_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "payments",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("company_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "method IN ('bank_transfer', 'cash', 'cheque', 'card_terminal', 'card', 'direct_debit')",
            name=op.f("ck_payments_method"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "company_id"],
            ["companies.tenant_id", "companies.id"],
            name=op.f("fk_payments_tenant_id_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_payments_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_payments")),
    )
    op.create_index("ix_payments_tenant_id_company_id", "payments", ["tenant_id", "company_id"], unique=False)
    op.create_table(
        "refunds",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("company_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("refunded_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "method IN ('bank_transfer', 'cash', 'cheque', 'card_terminal', 'card', 'direct_debit')",
            name=op.f("ck_refunds_method"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refunds_amount")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "company_id"],
            ["companies.tenant_id", "companies.id"],
            name=op.f("fk_refunds_tenant_id_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_refunds_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_refunds")),
    )
    op.create_table(
        "credit_notes",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.Column("company_id", sa.UUID(), nullable=False),
        sa.Column("invoice_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tax_mode", sa.String(length=10), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("tax_total", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('issued', 'void')", name=op.f("ck_credit_notes_status")),
        sa.CheckConstraint("tax_mode IN ('inclusive', 'exclusive')", name=op.f("ck_credit_notes_tax_mode")),
        sa.CheckConstraint("total = subtotal + tax_total AND total > 0", name=op.f("ck_credit_notes_total")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "company_id"],
            ["companies.tenant_id", "companies.id"],
            name=op.f("fk_credit_notes_tenant_id_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name=op.f("fk_credit_notes_tenant_id_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_credit_notes_tenant_id_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_credit_notes_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_credit_notes")),
    )
    op.create_index(
        "uq_credit_notes_tenant_id_number",
        "credit_notes",
        ["tenant_id", "number"],
        unique=True,
        postgresql_where="number IS NOT NULL",
    )
    op.create_table(
        "write_offs",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("company_id", sa.UUID(), nullable=False),
        sa.Column("invoice_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("written_off_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_write_offs_amount")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "company_id"],
            ["companies.tenant_id", "companies.id"],
            name=op.f("fk_write_offs_tenant_id_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name=op.f("fk_write_offs_tenant_id_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_write_offs_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_write_offs")),
    )
    op.create_table(
        "allocations",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("company_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("allocated_on", sa.Date(), nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=True),
        sa.Column("credit_note_id", sa.UUID(), nullable=True),
        sa.Column("write_off_id", sa.UUID(), nullable=True),
        sa.Column("invoice_id", sa.UUID(), nullable=True),
        sa.Column("refund_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_allocations_amount")),
        sa.CheckConstraint("num_nonnulls(invoice_id, refund_id) = 1", name=op.f("ck_allocations_one_target")),
        sa.CheckConstraint(
            "num_nonnulls(payment_id, credit_note_id, write_off_id) = 1", name=op.f("ck_allocations_one_source")
        ),
        sa.CheckConstraint(
            "write_off_id IS NULL OR invoice_id IS NOT NULL", name=op.f("ck_allocations_write_off_to_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "company_id"],
            ["companies.tenant_id", "companies.id"],
            name=op.f("fk_allocations_tenant_id_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "credit_note_id"],
            ["credit_notes.tenant_id", "credit_notes.id"],
            name=op.f("fk_allocations_tenant_id_credit_note_id_credit_notes"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name=op.f("fk_allocations_tenant_id_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "payment_id"],
            ["payments.tenant_id", "payments.id"],
            name=op.f("fk_allocations_tenant_id_payment_id_payments"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "refund_id"],
            ["refunds.tenant_id", "refunds.id"],
            name=op.f("fk_allocations_tenant_id_refund_id_refunds"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "write_off_id"],
            ["write_offs.tenant_id", "write_offs.id"],
            name=op.f("fk_allocations_tenant_id_write_off_id_write_offs"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_allocations_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_allocations")),
    )
    op.create_index("ix_allocations_tenant_id_company_id", "allocations", ["tenant_id", "company_id"], unique=False)
    op.create_index(
        "ix_allocations_tenant_id_credit_note_id", "allocations", ["tenant_id", "credit_note_id"], unique=False
    )
    op.create_index("ix_allocations_tenant_id_invoice_id", "allocations", ["tenant_id", "invoice_id"], unique=False)
    op.create_index("ix_allocations_tenant_id_payment_id", "allocations", ["tenant_id", "payment_id"], unique=False)
    op.create_table(
        "credit_note_lines",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("credit_note_id", sa.UUID(), nullable=False),
        sa.Column("invoice_line_id", sa.UUID(), nullable=True),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("unit_amount", sa.BigInteger(), nullable=False),
        sa.Column("line_amount", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate_id", sa.UUID(), nullable=False),
        sa.Column("tax_amount", sa.BigInteger(), nullable=False),
        sa.Column("revenue_account_id", sa.UUID(), nullable=False),
        sa.Column("explanation", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "credit_note_id"],
            ["credit_notes.tenant_id", "credit_notes.id"],
            name=op.f("fk_credit_note_lines_tenant_id_credit_note_id_credit_notes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_line_id"],
            ["invoice_lines.tenant_id", "invoice_lines.id"],
            name=op.f("fk_credit_note_lines_tenant_id_invoice_line_id_invoice_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "revenue_account_id"],
            ["revenue_accounts.tenant_id", "revenue_accounts.id"],
            name=op.f("fk_credit_note_lines_tenant_id_revenue_account_id_revenue_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tax_rate_id"],
            ["tax_rates.tenant_id", "tax_rates.id"],
            name=op.f("fk_credit_note_lines_tenant_id_tax_rate_id_tax_rates"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_credit_note_lines_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_credit_note_lines")),
    )
    op.create_index(
        "ix_credit_note_lines_tenant_id_credit_note_id",
        "credit_note_lines",
        ["tenant_id", "credit_note_id"],
        unique=False,
    )
    op.create_index(
        "ix_credit_note_lines_tenant_id_invoice_line_id",
        "credit_note_lines",
        ["tenant_id", "invoice_line_id"],
        unique=False,
    )
    op.add_column(
        "invoice_sequences", sa.Column("kind", sa.String(length=12), nullable=False, server_default="invoice")
    )
    op.alter_column("invoice_sequences", "kind", server_default=None)
    op.drop_constraint("pk_invoice_sequences", "invoice_sequences", type_="primary")
    op.create_primary_key("pk_invoice_sequences", "invoice_sequences", ["tenant_id", "location_id", "kind"])
    op.create_check_constraint("ck_invoice_sequences_kind", "invoice_sequences", "kind IN ('invoice', 'credit_note')")
    op.add_column(
        "locations",
        sa.Column("credit_note_number_template", sa.String(length=60), nullable=False, server_default="CN-{number:06}"),
    )
    tenancy.backfill(["locations"], "UPDATE locations SET credit_note_number_template = code || '-CN-{number:06}'")
    op.alter_column("locations", "credit_note_number_template", server_default=None)
    for table in NEW_TABLES:
        tenancy.protect(table)
    for table, column in DATED:
        tenancy.lock_by_date(table, column)


def downgrade() -> None:
    for table, _ in DATED:
        op.execute(f"DROP TRIGGER {table}_lock_date ON {table}")
    for table in NEW_TABLES:
        tenancy.unprotect(table)
    op.drop_column("locations", "credit_note_number_template")
    op.drop_constraint("ck_invoice_sequences_kind", "invoice_sequences", type_="check")
    op.execute("DELETE FROM invoice_sequences WHERE kind <> 'invoice'")
    op.drop_constraint("pk_invoice_sequences", "invoice_sequences", type_="primary")
    op.create_primary_key("pk_invoice_sequences", "invoice_sequences", ["tenant_id", "location_id"])
    op.drop_column("invoice_sequences", "kind")
    op.drop_index("ix_credit_note_lines_tenant_id_invoice_line_id", table_name="credit_note_lines")
    op.drop_index("ix_credit_note_lines_tenant_id_credit_note_id", table_name="credit_note_lines")
    op.drop_table("credit_note_lines")
    op.drop_index("ix_allocations_tenant_id_payment_id", table_name="allocations")
    op.drop_index("ix_allocations_tenant_id_invoice_id", table_name="allocations")
    op.drop_index("ix_allocations_tenant_id_credit_note_id", table_name="allocations")
    op.drop_index("ix_allocations_tenant_id_company_id", table_name="allocations")
    op.drop_table("allocations")
    op.drop_table("write_offs")
    op.drop_index("uq_credit_notes_tenant_id_number", table_name="credit_notes", postgresql_where="number IS NOT NULL")
    op.drop_table("credit_notes")
    op.drop_table("refunds")
    op.drop_index("ix_payments_tenant_id_company_id", table_name="payments")
    op.drop_table("payments")
    op.drop_table("idempotency_keys")
