"""Engine and session factory for the app's connections.

Every app connection runs as the unprivileged application role from its first statement, so
whatever login role the URL names, queries run subject to row-level security.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import msgspec
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import ConnectionPoolEntry

from app.db import driver
from app.db.direct import Transaction

TENANT_KEY = "tenant_id"


def async_url(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


_JSON = msgspec.json.Encoder()  # ids, decimals and dates as text, natively (a run encodes thousands)


def json_dumps(value: Any) -> str:
    """JSON for jsonb columns: ids, decimals and dates as the strings the API shows."""
    return _JSON.encode(value).decode()


# A pooled connection idle for longer than this is pinged before it is handed out again.
IDLE_PING_SECONDS = 10.0


def create_engine(
    url: str, *, app_role: str | None, pool_size: int = 10, idle_ping_seconds: float = IDLE_PING_SECONDS
) -> AsyncEngine:
    # The role is a startup parameter of the connection, so it is the session's default: a
    # ROLLBACK cannot undo it (a SET ROLE run inside the driver's first transaction would be).
    connect_args = {"server_settings": {"role": app_role}} if app_role else {}
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        connect_args=connect_args,
        json_serializer=json_dumps,
        hide_parameters=True,  # errors must not carry parameters (password hashes, addresses) into logs
    )
    _ping_when_idle(engine, idle_ping_seconds)
    return engine


def _ping_when_idle(engine: AsyncEngine, seconds: float) -> None:
    """Check a connection is still alive before handing it out, when it has sat in the pool for a
    while (a restarted or failed-over server leaves dead ones behind). The pool's own pre-ping
    checks on every checkout: three round trips through the asyncpg adapter (begin, select,
    rollback), which was a third of an authenticated read's trips to the database. A connection
    in steady use was alive a moment ago; one that fails anyway is found dead by its statement,
    and the pool then drops every connection it holds."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _returned(_: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _lent(dbapi_connection: Any, record: ConnectionPoolEntry, _: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:
            # The pool discards this connection and tries the next (or a new one).
            raise DisconnectionError("a pooled connection was found closed") from error


def create_sessionmaker(bind: Any) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind=bind, expire_on_commit=False, autoflush=False)


_SET_TENANT = text("SELECT set_config('app.tenant_id', :tenant, true)")


async def bind_tenant(target: AsyncSession | Transaction, tenant_id: uuid.UUID | None) -> None:
    """Make a session act for ``tenant_id`` (or for no tenant): now, and in every later transaction;
    or a direct transaction, for the rest of it."""
    tenant = str(tenant_id) if tenant_id else ""
    if isinstance(target, Transaction):
        target.tenant_id = tenant_id
        await driver.execute(target, _SET_TENANT, {"tenant": tenant})
        return
    target.info[TENANT_KEY] = tenant_id
    if target.in_transaction():
        await target.execute(_SET_TENANT, {"tenant": tenant})


def bound_by_lookup(target: AsyncSession | Transaction, tenant_id: uuid.UUID) -> None:
    """Record that the statement which found ``tenant_id`` also bound the open transaction to it
    (``set_config('app.tenant_id', ..., true)`` in the same statement, saving a round trip), so
    later transactions of a session act for it too."""
    if isinstance(target, Transaction):
        target.tenant_id = tenant_id
        return
    assert target.in_transaction(), "only a statement in the open transaction can have bound it"
    target.info[TENANT_KEY] = tenant_id


@event.listens_for(Session, "after_begin")
def _apply_tenant(session: Session, _: SessionTransaction, connection: Any) -> None:
    # The setting is transaction-local: a transaction begins with no tenant unless one is set.
    tenant_id = session.info.get(TENANT_KEY)
    if tenant_id is not None:
        connection.execute(_SET_TENANT, {"tenant": str(tenant_id)})
