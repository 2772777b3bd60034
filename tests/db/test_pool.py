"""Pooled connections that died while idle (a restarted or failed-over server) are replaced
before a request gets them, without a ping on every checkout."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

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
