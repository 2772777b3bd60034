"""Resources and bookings (no two confirmed bookings of a resource overlap), deposits and
bookings claimed in billing_items, and the tenant's invoice grouping options.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 03:27:19.420576
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations import tenancy

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The resource row is locked first, so two bookings of one resource are checked one after the
# other: the second sees the first once it commits. (An exclusion constraint would need the
# btree_gist extension, which not every PostgreSQL build ships.)
NO_OVERLAP = """
CREATE FUNCTION bookings_no_overlap() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clash record;
BEGIN
    IF NEW.status = 'cancelled' THEN
        RETURN NEW;
    END IF;
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
    op.create_table(
        "resources",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("hourly_rate", sa.BigInteger(), nullable=True),
        sa.Column("daily_rate", sa.BigInteger(), nullable=True),
        sa.Column("revenue_account_id", sa.UUID(), nullable=False),
        sa.Column("capacity", sa.SmallInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('meeting_room', 'desk', 'office', 'event_space', 'other')", name=op.f("ck_resources_kind")
        ),
        sa.CheckConstraint(
            "(hourly_rate IS NOT NULL OR daily_rate IS NOT NULL) AND coalesce(hourly_rate, 0) >= 0 AND coalesce(daily_rate, 0) >= 0",
            name=op.f("ck_resources_rates"),
        ),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name=op.f("ck_resources_capacity")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_resources_tenant_id_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "revenue_account_id"],
            ["revenue_accounts.tenant_id", "revenue_accounts.id"],
            name=op.f("fk_resources_tenant_id_revenue_account_id_revenue_accounts"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_resources_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_resources")),
    )
    op.create_index("uq_resources_location_name", "resources", ["tenant_id", "location_id", "name"], unique=True)
    op.create_table(
        "bookings",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.Column("resource_id", sa.UUID(), nullable=False),
        sa.Column("company_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("pricing", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("discount_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("cancelled_reason", sa.String(length=500), nullable=True),
        sa.Column("credit_used", sa.BigInteger(), nullable=False),
        sa.Column("invoice_line_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('confirmed', 'cancelled', 'billed')", name=op.f("ck_bookings_status")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_bookings_range")),
        sa.CheckConstraint(
            "price >= 0 AND credit_used >= 0 AND credit_used <= price", name=op.f("ck_bookings_amounts")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "company_id"],
            ["companies.tenant_id", "companies.id"],
            name=op.f("fk_bookings_tenant_id_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "discount_id"],
            ["discounts.tenant_id", "discounts.id"],
            name=op.f("fk_bookings_tenant_id_discount_id_discounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_line_id"],
            ["invoice_lines.tenant_id", "invoice_lines.id"],
            name=op.f("fk_bookings_tenant_id_invoice_line_id_invoice_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["locations.tenant_id", "locations.id"],
            name=op.f("fk_bookings_tenant_id_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_bookings_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "resource_id"],
            ["resources.tenant_id", "resources.id"],
            name=op.f("fk_bookings_tenant_id_resource_id_resources"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_bookings_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bookings")),
    )
    op.create_index("ix_bookings_company_date", "bookings", ["tenant_id", "company_id", "meeting_date"], unique=False)
    op.create_index("ix_bookings_resource_time", "bookings", ["tenant_id", "resource_id", "starts_at"], unique=False)
    op.create_index(
        "ix_bookings_unbilled",
        "bookings",
        ["tenant_id", "location_id", "meeting_date"],
        unique=False,
        postgresql_where="status = 'confirmed'",
    )
    tenancy.protect("resources")
    tenancy.protect("bookings")
    op.execute(NO_OVERLAP)
    op.execute(
        "CREATE TRIGGER bookings_no_overlap BEFORE INSERT OR UPDATE OF starts_at, ends_at, status, resource_id "
        "ON bookings FOR EACH ROW EXECUTE FUNCTION bookings_no_overlap()"
    )
    op.add_column(
        "tenants", sa.Column("invoice_grouping", sa.String(length=10), server_default="company", nullable=False)
    )
    op.add_column(
        "tenants", sa.Column("invoice_location", sa.String(length=10), server_default="location", nullable=False)
    )
    op.create_check_constraint(
        op.f("ck_tenants_invoice_grouping"), "tenants", "invoice_grouping IN ('company', 'split')"
    )
    op.create_check_constraint(
        op.f("ck_tenants_invoice_location"), "tenants", "invoice_location IN ('location', 'home')"
    )
    op.drop_constraint(op.f("ck_billing_items_source_type"), "billing_items", type_="check")
    op.create_check_constraint(
        op.f("ck_billing_items_source_type"),
        "billing_items",
        "source_type IN ('membership', 'fee', 'booking', 'deposit')",
    )


def downgrade() -> None:
    tenancy.backfill(["billing_items"], "DELETE FROM billing_items WHERE source_type IN ('booking', 'deposit')")
    op.drop_constraint(op.f("ck_billing_items_source_type"), "billing_items", type_="check")
    op.create_check_constraint(
        op.f("ck_billing_items_source_type"), "billing_items", "source_type IN ('membership', 'fee')"
    )
    op.drop_constraint(op.f("ck_tenants_invoice_location"), "tenants", type_="check")
    op.drop_constraint(op.f("ck_tenants_invoice_grouping"), "tenants", type_="check")
    op.drop_column("tenants", "invoice_location")
    op.drop_column("tenants", "invoice_grouping")
    op.drop_index("ix_bookings_unbilled", table_name="bookings", postgresql_where="status = 'confirmed'")
    op.drop_index("ix_bookings_resource_time", table_name="bookings")
    op.drop_index("ix_bookings_company_date", table_name="bookings")
    op.execute("DROP TRIGGER bookings_no_overlap ON bookings")
    op.execute("DROP FUNCTION bookings_no_overlap()")
    tenancy.unprotect("bookings")
    op.drop_table("bookings")
    op.drop_index("uq_resources_location_name", table_name="resources")
    tenancy.unprotect("resources")
    op.drop_table("resources")
