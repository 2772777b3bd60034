"""Building blocks that migrations use to put a table behind the tenant wall.

Roles are cluster-wide, so they are created if missing and never dropped by a downgrade.
"""

from __future__ import annotations

from alembic import op

APP_ROLE = "flexledger_app"
SYSTEM_ROLE = "flexledger_system"


def create_roles() -> None:
    for role in (APP_ROLE, SYSTEM_ROLE):
        op.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT; END IF; END $$"
        )
    # The migrating role must be able to act as these roles (to give them the lookup functions).
    # A superuser can anyway; an owner without superuser (managed PostgreSQL) that created them
    # holds ADMIN on them, and since PostgreSQL 16 needs the SET option spelled out.
    op.execute(
        "DO $$ BEGIN IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN "
        "IF current_setting('server_version_num')::int >= 160000 THEN "
        f"EXECUTE 'GRANT {APP_ROLE}, {SYSTEM_ROLE} TO ' || quote_ident(current_user) || ' WITH SET TRUE'; "
        f"ELSE EXECUTE 'GRANT {APP_ROLE}, {SYSTEM_ROLE} TO ' || quote_ident(current_user); END IF; END IF; END $$"
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}, {SYSTEM_ROLE}")
    # Owning the lookup functions needs CREATE on the schema; only the owner can act as this role.
    op.execute(f"GRANT CREATE ON SCHEMA public TO {SYSTEM_ROLE}")
    op.execute(
        "CREATE FUNCTION app_current_tenant() RETURNS uuid LANGUAGE sql STABLE "
        "AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$"
    )


def drop_roles_grants() -> None:
    op.execute("DROP FUNCTION app_current_tenant()")
    op.execute(f"REVOKE CREATE ON SCHEMA public FROM {SYSTEM_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}, {SYSTEM_ROLE}")


def protect(
    table: str, *, key: str = "tenant_id", system_reads: bool = False, grants: str = "SELECT, INSERT, UPDATE, DELETE"
) -> None:
    """Row-level security on ``table``: a transaction sees and writes only its tenant's rows."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING ({key} = app_current_tenant()) WITH CHECK ({key} = app_current_tenant())"
    )
    op.execute(f"GRANT {grants} ON {table} TO {APP_ROLE}")
    if system_reads:
        allow_system_reads(table)


def allow_system_reads(table: str) -> None:
    """Let the system role (the owner of the sys_* look-ups) read every tenant's rows of ``table``."""
    op.execute(f"CREATE POLICY system_read ON {table} FOR SELECT TO {SYSTEM_ROLE} USING (true)")
    op.execute(f"GRANT SELECT ON {table} TO {SYSTEM_ROLE}")


def unprotect(table: str) -> None:
    op.execute(f"DROP POLICY IF EXISTS system_read ON {table}")
    op.execute(f"DROP POLICY tenant_isolation ON {table}")
    op.execute(f"REVOKE ALL ON {table} FROM {APP_ROLE}, {SYSTEM_ROLE}")


def lock_by_date(table: str, column: str) -> None:
    """Refuse any insert, change or delete of a row dated on or before the tenant's lock date."""
    op.execute(
        f"CREATE TRIGGER {table}_lock_date BEFORE INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION enforce_lock_date('{column}')"
    )


def backfill(tables: list[str], statement: str) -> None:
    """Run a data migration over every tenant's rows. FORCE is lifted for the statement only, so
    an owner that is not a superuser sees all rows; the app role stays under RLS throughout."""
    for table in tables:
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(statement)
    for table in tables:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def system_function(signature: str, returns: str, body: str) -> None:
    """A named cross-tenant read: runs as the system role, callable only by the app role."""
    op.execute(
        f"CREATE FUNCTION {signature} RETURNS {returns} LANGUAGE sql STABLE SECURITY DEFINER "
        f"SET search_path = public, pg_temp AS $$ {body} $$"
    )
    op.execute(f"ALTER FUNCTION {signature} OWNER TO {SYSTEM_ROLE}")
    op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")
