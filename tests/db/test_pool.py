"""Pooled connections that died while idle (a restarted or failed-over server) are replaced
before a request gets them, without a ping on every checkout."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import driver
from app.db.engine import create_engine
from app.db.provision import APP_ROLE
from app.settings import Settings
from tests.conftest import _admin_url

_PID = text("SELECT pg_backend_pid()")


async def _kill(pid: int) -> None:
    admin = await asyncpg.connect(_admin_url())
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_a_connection_killed_while_idle_is_replaced_at_checkout(settings: Settings) -> None:
    engine = create_engine(
        settings.database_url.get_secret_value(), app_role=APP_ROLE, pool_size=1, idle_ping_seconds=0
    )
    try:
        async with engine.connect() as connection:
            first = (await connection.execute(_PID)).scalar_one()
        await _kill(first)
        async with engine.connect() as connection:
            second = (await connection.execute(_PID)).scalar_one()
        assert second != first
    finally:
        await engine.dispose()


async def test_within_the_idle_time_no_ping_is_sent_and_the_pool_recovers_after_one_failure(
    settings: Settings,
) -> None:
    """A connection returned a moment ago is handed out as it is: if it died meanwhile, that one
    statement fails, the pool drops what it holds, and the next checkout gets a new connection."""
    engine = create_engine(settings.database_url.get_secret_value(), app_role=APP_ROLE, pool_size=1)
    try:
        async with engine.connect() as connection:
            first = (await connection.execute(_PID)).scalar_one()
        await _kill(first)
        with pytest.raises(DBAPIError) as failed:
            async with engine.connect() as connection:
                await connection.execute(_PID)
        assert failed.value.connection_invalidated
        async with engine.connect() as connection:
            assert (await connection.execute(_PID)).scalar_one() != first
    finally:
        await engine.dispose()


async def test_a_connection_lost_under_a_driver_statement_is_invalidated_not_lent_again(settings: Settings) -> None:
    """Statements sent straight to the driver (the credential look-ups, the invoice pages) begin
    the transaction themselves: a connection found dead there is dropped as SQLAlchemy's own
    statements would drop it, not handed back to the pool as a healthy one."""
    engine = create_engine(settings.database_url.get_secret_value(), app_role=APP_ROLE, pool_size=1)
    backend = select(func.pg_backend_pid())
    try:
        async with AsyncSession(engine) as session, session.begin():
            [(first,)] = await driver.fetch(session, backend, {})
        await _kill(first)
        with pytest.raises(DBAPIError) as failed:
            async with AsyncSession(engine) as session, session.begin():
                await driver.fetch(session, backend, {})
        assert failed.value.connection_invalidated
        async with AsyncSession(engine) as session, session.begin():
            [(second,)] = await driver.fetch(session, backend, {})
        assert second != first
    finally:
        await engine.dispose()


async def test_driver_statements_refuse_a_connection_that_begins_no_transaction(settings: Settings) -> None:
    """An autocommit connection would commit each statement on its own (and forget the tenant
    binding between them): refused before anything is sent."""
    engine = create_engine(settings.database_url.get_secret_value(), app_role=APP_ROLE, pool_size=1)
    try:
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            async with autocommit.begin():
                with pytest.raises(RuntimeError, match="inside the session's transaction"):
                    await driver.fetch(autocommit, select(func.pg_backend_pid()), {})
    finally:
        await engine.dispose()
