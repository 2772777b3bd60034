"""Pooled connections that died while idle (a restarted or failed-over server) are replaced
before a request gets them, without a ping on every checkout."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_key.schemas import ApiKeyCreate
from app.api_key.service import create_api_key
from app.db import driver
from app.db.engine import bind_tenant, create_engine
from app.db.provision import APP_ROLE
from app.db.system import api_key_by_prefix
from app.kit.security import api_key_prefix
from app.settings import Settings
from app.state import AppState
from tests.support.db import terminate_backend
from tests.support.worlds import open_tenant

_PID = text("SELECT pg_backend_pid()")


async def test_a_connection_killed_while_idle_is_replaced_at_checkout(settings: Settings) -> None:
    engine = create_engine(
        settings.database_url.get_secret_value(), app_role=APP_ROLE, pool_size=1, idle_ping_seconds=0
    )
    try:
        async with engine.connect() as connection:
            first = (await connection.execute(_PID)).scalar_one()
        await terminate_backend(first)
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
        await terminate_backend(first)
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
        await terminate_backend(first)
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


async def test_a_credential_look_up_binds_its_transaction_only(live: AppState, settings: Settings) -> None:
    """The look-up through the driver binds the request's transaction to the key's tenant; the
    binding ends with the transaction, so the next request on the same pooled connection starts
    with no tenant, whether the look-up was committed or refused and rolled back."""
    async with live.sessionmaker() as session, session.begin():
        operator, _ = await open_tenant(session, live)
        await bind_tenant(session, operator.tenant_id)
        _, secret = await create_api_key(
            session, operator, ApiKeyCreate(name="look-up", scopes=["billing:read"]), live.clock.now()
        )
    engine = create_engine(settings.database_url.get_secret_value(), app_role=APP_ROLE, pool_size=1)
    bound = select(func.current_setting("app.tenant_id", True))
    try:
        for key, found in ((secret, True), ("flk_000000000000_unknown", False)):
            async with AsyncSession(engine) as session:
                async with session.begin():
                    prefix = api_key_prefix(key)
                    assert prefix is not None
                    record = await api_key_by_prefix(session, prefix)
                    assert (record is not None) == found
                    assert (await session.scalar(bound) or "") == (str(operator.tenant_id) if found else "")
                async with session.begin():  # the same pooled connection, the next transaction
                    assert not await session.scalar(bound)
    finally:
        await engine.dispose()
