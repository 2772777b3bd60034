"""Scheduled billing: the scheduler's cross-tenant look-up of locations whose billing time has come.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

from migrations import tenancy

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

READ_BY_SYSTEM = ("locations", "billing_runs")

# A location is due when, in its own time zone, the billing day's hour has come and no completed
# run exists for the period that day opens.
DUE_BILLING = """
WITH local AS (
    SELECT l.tenant_id, l.id AS location_id, l.billing_day,
           (p_now AT TIME ZONE l.time_zone) AS local_now
    FROM locations l JOIN tenants t ON t.id = l.tenant_id
    WHERE l.active AND t.status = 'active'
), periods AS (
    SELECT tenant_id, location_id, local_now,
           CASE WHEN extract(day FROM local_now) >= billing_day
                THEN make_date(extract(year FROM local_now)::int, extract(month FROM local_now)::int, billing_day)
                ELSE (make_date(extract(year FROM local_now)::int, extract(month FROM local_now)::int, billing_day)
                      - interval '1 month')::date
           END AS period_start
    FROM local
)
SELECT p.tenant_id, p.location_id, p.period_start FROM periods p
WHERE p.local_now >= p.period_start + make_interval(hours => p_hour)
  AND NOT EXISTS (
      SELECT 1 FROM billing_runs r
      WHERE r.tenant_id = p.tenant_id AND r.location_id = p.location_id
        AND r.period_start = p.period_start AND r.status = 'completed')
ORDER BY p.period_start, p.location_id
LIMIT p_limit
"""


def upgrade() -> None:
    for table in READ_BY_SYSTEM:
        tenancy.allow_system_reads(table)
    tenancy.system_function(
        "sys_due_billing(p_now timestamptz, p_hour integer, p_limit integer)",
        "TABLE(tenant_id uuid, location_id uuid, period_start date)",
        DUE_BILLING,
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION sys_due_billing(timestamptz, integer, integer)")
    for table in READ_BY_SYSTEM:
        op.execute(f"REVOKE SELECT ON {table} FROM {tenancy.SYSTEM_ROLE}")
        op.execute(f"DROP POLICY system_read ON {table}")
