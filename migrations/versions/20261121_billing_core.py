"""Billing core: catalogue (revenue accounts, tax rates, plans, discounts), companies,
memberships, invoices with per-location numbering, billing runs and their idempotency ledger.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 01:33:31.508529
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations import tenancy

NEW_TABLES = (
    "tax_rates",
    "tax_rate_components",
    "revenue_accounts",
    "location_tax_policies",
    "plans",
    "discounts",
    "companies",
    "memberships",
    "billing_runs",
    "invoices",
    "invoice_lines",
    "invoice_sequences",
    "billing_items",
)
BUILTIN_ACCOUNTS = [
    ("membership_fees", "Membership fees", "MEM", False),
    ("booking_fees", "Booking fees", "BOOK", False),
    ("one_off_fees", "One-off fees", "FEES", False),
    ("deposits", "Deposits", "DEP", True),
]
revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discounts",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("percent", sa.Numeric(precision=7, scale=4), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(kind = 'percent' AND percent > 0 AND percent <= 100 AND amount IS NULL AND currency IS NULL) OR (kind = 'fixed' AND amount > 0 AND currency IS NOT NULL AND percent IS NULL)",
            name=op.f("ck_discounts_shape"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_discounts_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_discounts")),
    )
    op.create_table(
        "tax_rates",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('active', 'archived')", name=op.f("ck_tax_rates_status")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_tax_rates_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_tax_rates")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_tax_rates_tenant_id_name")),
    )
    op.create_table(
        "billing_runs",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("invoices_created", sa.Integer(), nullable=False),
        sa.Column("lines_created", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('running', 'completed', 'failed')", name=op.f("ck_billing_runs_status")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_billing_runs_tenant_id_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_billing_runs_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_billing_runs")),
    )
    op.create_table(
        "companies",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("billing_email", sa.String(length=320), nullable=False),
        sa.Column("address_line1", sa.String(length=200), nullable=True),
        sa.Column("address_line2", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("tax_number", sa.String(length=50), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_terms_days", sa.SmallInteger(), nullable=False),
        sa.Column("tax_rate_id", sa.UUID(), nullable=True),
        sa.Column("auto_charge", sa.Boolean(), nullable=False),
        sa.Column("home_location_id", sa.UUID(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('company', 'person')", name=op.f("ck_companies_kind")),
        sa.CheckConstraint("payment_terms_days BETWEEN 0 AND 365", name=op.f("ck_companies_terms")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "home_location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_companies_tenant_id_home_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tax_rate_id"],
            ["tax_rates.tenant_id", "tax_rates.id"],
            name=op.f("fk_companies_tenant_id_tax_rate_id_tax_rates"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_companies_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_companies")),
        sa.UniqueConstraint("tenant_id", "legal_name", "kind", name=op.f("uq_companies_tenant_id_legal_name_kind")),
    )
    op.create_table(
        "invoice_sequences",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.Column("next_number", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("next_number >= 1", name=op.f("ck_invoice_sequences_next_number")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_invoice_sequences_tenant_id_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "location_id", name=op.f("pk_invoice_sequences")),
    )
    op.create_table(
        "revenue_accounts",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("liability", sa.Boolean(), nullable=False),
        sa.Column("tax_rate_id", sa.UUID(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('membership_fees', 'booking_fees', 'one_off_fees', 'deposits', 'custom')",
            name=op.f("ck_revenue_accounts_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tax_rate_id"],
            ["tax_rates.tenant_id", "tax_rates.id"],
            name=op.f("fk_revenue_accounts_tenant_id_tax_rate_id_tax_rates"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_revenue_accounts_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_revenue_accounts")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_revenue_accounts_tenant_id_code")),
    )
    op.create_index(
        "uq_revenue_accounts_builtin_kind",
        "revenue_accounts",
        ["tenant_id", "kind"],
        unique=True,
        postgresql_where="kind <> 'custom'",
    )
    op.create_table(
        "tax_rate_components",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("tax_rate_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("percent", sa.Numeric(precision=8, scale=4), nullable=False),
        sa.Column("compound", sa.Boolean(), nullable=False),
        sa.CheckConstraint("percent >= 0 AND percent <= 100", name=op.f("ck_tax_rate_components_percent")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tax_rate_id"],
            ["tax_rates.tenant_id", "tax_rates.id"],
            name=op.f("fk_tax_rate_components_tenant_id_tax_rate_id_tax_rates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "tax_rate_id", "position", name=op.f("pk_tax_rate_components")),
    )
    op.create_table(
        "invoices",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.Column("company_id", sa.UUID(), nullable=False),
        sa.Column("billing_run_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.String(length=15), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tax_mode", sa.String(length=10), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("tax_total", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'void') OR (number IS NOT NULL AND issue_date IS NOT NULL)",
            name=op.f("ck_invoices_issued_numbered"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'issued', 'partially_paid', 'paid', 'void')", name=op.f("ck_invoices_status")
        ),
        sa.CheckConstraint("tax_mode IN ('inclusive', 'exclusive')", name=op.f("ck_invoices_tax_mode")),
        sa.CheckConstraint("total = subtotal + tax_total", name=op.f("ck_invoices_total")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "billing_run_id"],
            ["billing_runs.tenant_id", "billing_runs.id"],
            name=op.f("fk_invoices_tenant_id_billing_run_id_billing_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "company_id"],
            ["companies.tenant_id", "companies.id"],
            name=op.f("fk_invoices_tenant_id_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_invoices_tenant_id_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_invoices_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_invoices")),
    )
    op.create_index("ix_invoices_tenant_id_company_id", "invoices", ["tenant_id", "company_id"], unique=False)
    op.create_index(
        "uq_invoices_tenant_id_number",
        "invoices",
        ["tenant_id", "number"],
        unique=True,
        postgresql_where="number IS NOT NULL",
    )
    op.create_table(
        "location_tax_policies",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.Column("revenue_account_id", sa.UUID(), nullable=False),
        sa.Column("tax_rate_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_location_tax_policies_tenant_id_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "revenue_account_id"],
            ["revenue_accounts.tenant_id", "revenue_accounts.id"],
            name=op.f("fk_location_tax_policies_tenant_id_revenue_account_id_revenue_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tax_rate_id"],
            ["tax_rates.tenant_id", "tax_rates.id"],
            name=op.f("fk_location_tax_policies_tenant_id_tax_rate_id_tax_rates"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "location_id", "revenue_account_id", name=op.f("pk_location_tax_policies")
        ),
    )
    op.create_table(
        "plans",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("interval_months", sa.SmallInteger(), nullable=False),
        sa.Column("revenue_account_id", sa.UUID(), nullable=False),
        sa.Column("prorate", sa.Boolean(), nullable=False),
        sa.Column("included_credit", sa.BigInteger(), nullable=False),
        sa.Column("deposit", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("included_credit >= 0 AND deposit >= 0", name=op.f("ck_plans_credit_deposit")),
        sa.CheckConstraint("interval_months BETWEEN 1 AND 12", name=op.f("ck_plans_interval")),
        sa.CheckConstraint("price >= 0", name=op.f("ck_plans_price")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "revenue_account_id"],
            ["revenue_accounts.tenant_id", "revenue_accounts.id"],
            name=op.f("fk_plans_tenant_id_revenue_account_id_revenue_accounts"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_plans_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_plans")),
    )
    op.create_table(
        "memberships",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("company_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=True),
        sa.Column("plan_id", sa.UUID(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price_override", sa.BigInteger(), nullable=True),
        sa.Column("discount_id", sa.UUID(), nullable=True),
        sa.Column("notes", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name=op.f("ck_memberships_dates")),
        sa.CheckConstraint("price_override IS NULL OR price_override >= 0", name=op.f("ck_memberships_price_override")),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_memberships_quantity")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "company_id"],
            ["companies.tenant_id", "companies.id"],
            name=op.f("fk_memberships_tenant_id_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "discount_id"],
            ["discounts.tenant_id", "discounts.id"],
            name=op.f("fk_memberships_tenant_id_discount_id_discounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_memberships_tenant_id_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_memberships_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "plan_id"],
            ["plans.tenant_id", "plans.id"],
            name=op.f("fk_memberships_tenant_id_plan_id_plans"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_memberships_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_memberships")),
    )
    op.create_index("ix_memberships_tenant_id_company_id", "memberships", ["tenant_id", "company_id"], unique=False)
    op.create_index(
        "ix_memberships_tenant_id_location_id_start_date",
        "memberships",
        ["tenant_id", "location_id", "start_date"],
        unique=False,
    )
    op.create_table(
        "invoice_lines",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("invoice_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("unit_amount", sa.BigInteger(), nullable=False),
        sa.Column("line_amount", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate_id", sa.UUID(), nullable=False),
        sa.Column("tax_amount", sa.BigInteger(), nullable=False),
        sa.Column("revenue_account_id", sa.UUID(), nullable=False),
        sa.Column("membership_id", sa.UUID(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("explanation", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name=op.f("fk_invoice_lines_tenant_id_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_invoice_lines_tenant_id_membership_id_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "revenue_account_id"],
            ["revenue_accounts.tenant_id", "revenue_accounts.id"],
            name=op.f("fk_invoice_lines_tenant_id_revenue_account_id_revenue_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tax_rate_id"],
            ["tax_rates.tenant_id", "tax_rates.id"],
            name=op.f("fk_invoice_lines_tenant_id_tax_rate_id_tax_rates"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_invoice_lines_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_invoice_lines")),
    )
    op.create_index("ix_invoice_lines_tenant_id_invoice_id", "invoice_lines", ["tenant_id", "invoice_id"], unique=False)
    op.create_table(
        "billing_items",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("source_type", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.UUID(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("billing_run_id", sa.UUID(), nullable=False),
        sa.Column("invoice_line_id", sa.UUID(), nullable=True),
        sa.CheckConstraint("source_type IN ('membership')", name=op.f("ck_billing_items_source_type")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "billing_run_id"],
            ["billing_runs.tenant_id", "billing_runs.id"],
            name=op.f("fk_billing_items_tenant_id_billing_run_id_billing_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_line_id"],
            ["invoice_lines.tenant_id", "invoice_lines.id"],
            name=op.f("fk_billing_items_tenant_id_invoice_line_id_invoice_lines"),
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "source_type", "source_id", "period_start", name=op.f("pk_billing_items")),
    )
    op.add_column(
        "locations",
        sa.Column("invoice_number_template", sa.String(length=60), nullable=False, server_default="INV-{number:06}"),
    )
    tenancy.backfill(["locations"], "UPDATE locations SET invoice_number_template = code || '-{number:06}'")
    op.alter_column("locations", "invoice_number_template", server_default=None)
    op.add_column("members", sa.Column("company_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_members_tenant_id_company_id_companies"),
        "members",
        "companies",
        ["tenant_id", "company_id"],
        ["tenant_id", "id"],
    )
    op.add_column("tenants", sa.Column("issue_on_run", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.alter_column("tenants", "issue_on_run", server_default=None)
    for table in NEW_TABLES:
        tenancy.protect(table)
    values = ", ".join(
        f"('{kind}', '{name}', '{code}', {liability})" for kind, name, code, liability in BUILTIN_ACCOUNTS
    )
    tenancy.backfill(
        ["tenants", "revenue_accounts"],
        "INSERT INTO revenue_accounts (tenant_id, id, kind, name, code, liability, active) "
        "SELECT t.id, gen_random_uuid(), b.kind, b.name, b.code, b.liability, true "
        f"FROM tenants t CROSS JOIN (VALUES {values}) AS b(kind, name, code, liability)",
    )


def downgrade() -> None:
    for table in NEW_TABLES:
        tenancy.unprotect(table)
    op.drop_column("tenants", "issue_on_run")
    op.drop_constraint(op.f("fk_members_tenant_id_company_id_companies"), "members", type_="foreignkey")
    op.drop_column("members", "company_id")
    op.drop_column("locations", "invoice_number_template")
    op.drop_table("billing_items")
    op.drop_index("ix_invoice_lines_tenant_id_invoice_id", table_name="invoice_lines")
    op.drop_table("invoice_lines")
    op.drop_index("ix_memberships_tenant_id_location_id_start_date", table_name="memberships")
    op.drop_index("ix_memberships_tenant_id_company_id", table_name="memberships")
    op.drop_table("memberships")
    op.drop_table("plans")
    op.drop_table("location_tax_policies")
    op.drop_index("uq_invoices_tenant_id_number", table_name="invoices", postgresql_where="number IS NOT NULL")
    op.drop_index("ix_invoices_tenant_id_company_id", table_name="invoices")
    op.drop_table("invoices")
    op.drop_table("tax_rate_components")
    op.drop_index(
        "uq_revenue_accounts_builtin_kind", table_name="revenue_accounts", postgresql_where="kind <> 'custom'"
    )
    op.drop_table("revenue_accounts")
    op.drop_table("invoice_sequences")
    op.drop_table("companies")
    op.drop_table("billing_runs")
    op.drop_table("tax_rates")
    op.drop_table("discounts")
