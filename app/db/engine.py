"""Engine and session factory for the app's connections.

Every app connection runs as the unprivileged application role from its first statement, so
whatever login role the URL names, queries run subject to row-level security.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction

TENANT_KEY = "tenant_id"


def async_url(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


_JSON = msgspec.json.Encoder()  # ids, decimals and dates as text, natively (a run encodes thousands)


def json_dumps(value: Any) -> str:
    """JSON for jsonb columns: ids, decimals and dates as the strings the API shows."""
    return _JSON.encode(value).decode()


def create_engine(url: str, *, app_role: str | None, pool_size: int = 10) -> AsyncEngine:
    # The role is a startup parameter of the connection, so it is the session's default: a
    # ROLLBACK cannot undo it (a SET ROLE run inside the driver's first transaction would be).
    connect_args = {"server_settings": {"role": app_role}} if app_role else {}
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args=connect_args,
        json_serializer=json_dumps,
        hide_parameters=True,  # errors must not carry parameters (password hashes, addresses) into logs
    )


def create_sessionmaker(bind: Any) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind=bind, expire_on_commit=False, autoflush=False)


_SET_TENANT = text("SELECT set_config('app.tenant_id', :tenant, true)")


async def bind_tenant(session: AsyncSession, tenant_id: uuid.UUID | None) -> None:
    """Make ``session`` act for ``tenant_id`` (or for no tenant): now, and in every later transaction."""
    session.info[TENANT_KEY] = tenant_id
    if session.in_transaction():
        await session.execute(_SET_TENANT, {"tenant": str(tenant_id) if tenant_id else ""})


@event.listens_for(Session, "after_begin")
def _apply_tenant(session: Session, _: SessionTransaction, connection: Any) -> None:
    tenant_id = session.info.get(TENANT_KEY)
    connection.execute(_SET_TENANT, {"tenant": str(tenant_id) if tenant_id else ""})
