"""Direct transactions (``app.db.direct``): what requests that only read run in, on the app's own
driver pool. Row-level security holds there as on sessions, the tenant binding ends with the
transaction, and such a request checks out no connection of the engine's pool at all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from app.api_key.schemas import ApiKeyCreate
from app.api_key.service import create_api_key
from app.db.direct import DriverPool
from app.db.engine import bind_tenant
from app.db.provision import APP_ROLE
from app.db.system import api_key_by_prefix
from app.kit.security import api_key_prefix
from app.settings import Settings
from app.state import STATE_KEY, AppState
from portal.asgi import create_app
from tests.support.db import terminate_backend
from tests.support.worlds import open_tenant

READ = ("billing:read", "locations:read")


async def _committed_key(live: AppState) -> tuple[str, Any]:
    """A new tenant and an API key of its, committed (the pool's connections see only that)."""
    async with live.sessionmaker() as session, session.begin():
        operator, _ = await open_tenant(session, live)
        await bind_tenant(session, operator.tenant_id)
        _, secret = await create_api_key(
            session, operator, ApiKeyCreate(name="direct", scopes=list(READ)), live.clock.now()
        )
    return secret, operator.tenant_id


@pytest.fixture
async def one_connection(settings: Settings, live: AppState) -> AsyncIterator[DriverPool]:
    pool = await DriverPool.open(
        settings.database_url.get_secret_value(), app_role=APP_ROLE, size=1, dialect=live.engine.dialect
    )
    yield pool
    await pool.close()


async def test_a_direct_transaction_runs_as_the_app_role_and_is_bound_only_by_its_look_up(
    live: AppState, one_connection: DriverPool
) -> None:
    secret, tenant_id = await _committed_key(live)
    prefix = api_key_prefix(secret)
    assert prefix is not None
    keys = "SELECT count(*) FROM api_keys"
    async with one_connection.transaction() as transaction:
        assert await transaction.connection.fetchval("SELECT current_user") == APP_ROLE
        assert await transaction.connection.fetchval(keys) == 0  # no tenant yet: row-level security
        record = await api_key_by_prefix(transaction, prefix)
        assert record is not None
        assert record.tenant_id == tenant_id
        assert await transaction.connection.fetchval(keys) > 0
    async with one_connection.transaction() as transaction:  # the same connection, the next transaction
        assert not await transaction.connection.fetchval("SELECT current_setting('app.tenant_id', true)")
        assert await transaction.connection.fetchval(keys) == 0


async def test_a_pooled_connection_the_server_closed_is_replaced(live: AppState, one_connection: DriverPool) -> None:
    async with one_connection.transaction() as transaction:
        first = await transaction.connection.fetchval("SELECT pg_backend_pid()")
    await terminate_backend(first)
    async with one_connection.transaction() as transaction:
        assert await transaction.connection.fetchval("SELECT pg_backend_pid()") != first


async def test_a_read_only_request_checks_out_no_session_connection(live: AppState) -> None:
    """Through the app on committed data: the invoice list (``reads``) answers without the
    engine's pool; the location list (``db``) checks out one of its connections."""
    secret, _ = await _committed_key(live)
    app = create_app(state=live)
    app.state[STATE_KEY] = live
    checked_out: list[object] = []

    def count(*_: object) -> None:
        checked_out.append(object())

    event.listen(live.engine.sync_engine.pool, "checkout", count)
    headers = {"Authorization": f"Bearer {secret}"}
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    try:
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver.local") as client:
            listed = await client.get("/api/v1/invoices", headers=headers)
            assert listed.status_code == 200, listed.text
            assert listed.json() == {"data": [], "next_cursor": None}
            assert checked_out == []
            assert (await client.get("/api/v1/locations", headers=headers)).status_code == 200
            assert len(checked_out) == 1
    finally:
        event.remove(live.engine.sync_engine.pool, "checkout", count)
