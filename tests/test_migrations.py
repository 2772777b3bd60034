"""Migrations go up, all the way down, and up again; the models and the schema agree."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.engine import async_url
from app.db.models import Base
from tests.support.db import drop_database, fresh_database, migrate


async def _inspect(url: str) -> tuple[list[Any], list[str], list[str]]:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as connection:

            def diff(sync_connection: Connection) -> list[Any]:
                context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
                return list(compare_metadata(context, Base.metadata))

            drift = await connection.run_sync(diff)
            tables = (
                await connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"))
            ).scalars()
            functions = (
                await connection.execute(
                    text("SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1")
                )
            ).scalars()
            return drift, list(tables), list(functions)
    finally:
        await engine.dispose()


def test_upgrade_downgrade_upgrade_without_drift() -> None:
    url = fresh_database("flexledger_migrations")
    try:
        migrate(url)
        migrate(url, "base", down=True)
        _, tables, functions = asyncio.run(_inspect(url))
        assert tables == ["alembic_version"]
        assert functions == []
        migrate(url)
        drift, tables, functions = asyncio.run(_inspect(url))
        assert drift == [], f"models and migrations disagree: {drift}"
        assert set(tables) >= {"tenants", "locations", "users", "members", "api_keys", "member_tokens", "emails"}
        assert {"app_current_tenant", "sys_tenant_by_slug", "sys_api_key_by_prefix"} <= set(functions)
    finally:
        drop_database(url)


def test_an_owner_without_superuser_can_migrate() -> None:
    """Managed PostgreSQL gives no superuser: the schema owner must be enough."""
    role = f"fl_owner_{uuid.uuid4().hex[:8]}"
    admin = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql")
    name = f"flexledger_owned_{uuid.uuid4().hex[:8]}"

    async def admin_run(*statements: str) -> None:
        connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    # The app roles already exist on this server; hand them over as if this owner had made them.
    asyncio.run(
        admin_run(
            f"CREATE ROLE {role} LOGIN CREATEROLE CREATEDB NOSUPERUSER PASSWORD 'owner-password'",
            f"GRANT flexledger_app, flexledger_system TO {role} WITH ADMIN OPTION",
            f'CREATE DATABASE "{name}" OWNER {role}',
        )
    )
    url = admin.set(username=role, password="owner-password", database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        drift, tables, _ = asyncio.run(_inspect(url))
        assert drift == []
        assert "invoices" in tables
    finally:
        asyncio.run(admin_run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f"DROP ROLE IF EXISTS {role}"))
