"""Transactions straight on a driver connection, for requests that only read.

Under load, an authenticated read through the ORM session spent more of the process's time on the
session (its pool checkout, transaction bookkeeping, commit and close) than on its statements. A
handler that only reads asks for ``reads`` instead of ``db`` (``app.dependencies``); its
authentication then opens one of these transactions, on a connection of the app's own driver
pool, and binds it to the tenant in the look-up statement, as it binds a session's. The handler's
statements go through ``app.db.driver``. Row-level security is the same on both paths: the pool's
connections run as the application role from their first statement, and the tenant binding is
local to the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from sqlalchemy.engine import Dialect, make_url


class Transaction:
    """An open transaction on ``connection``; ``tenant_id`` is the tenant it is bound to, if any.
    (A plain class: handlers receive it as a dependency, whose value Litestar would otherwise
    check field by field.)"""

    __slots__ = ("connection", "dialect", "tenant_id")

    def __init__(self, connection: asyncpg.Connection | PoolConnectionProxy, dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect  # how ``app.db.driver`` compiles statements for it
        self.tenant_id: uuid.UUID | None = None


class Transactions(Protocol):
    """Where requests' direct transactions come from: the app's pool (``DriverPool``), or in tests
    the test's own connection."""

    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...

    async def close(self) -> None: ...


async def _keep(_: Any) -> None:
    """What a connection needs before it goes back to the pool, besides the rollback of a
    transaction left open (the pool does that itself): nothing. The role is a startup parameter
    and the tenant binding is transaction-local, so the driver's default reset (a round trip
    clearing settings, cursors, listeners and advisory locks on every release) would find nothing
    to undo."""


class DriverPool:
    """The app's own pool of driver connections for direct transactions, beside the engine's.

    Connections are opened when first needed and closed after five minutes idle. One the server
    closed meanwhile (a restart or fail-over) is replaced when it is next acquired, or, when that
    is not known yet, found dead by its ``BEGIN``: then it is dropped, the pool's other idle
    connections are marked for replacement, and the transaction begins on a new one."""

    def __init__(self, pool: asyncpg.Pool, dialect: Dialect) -> None:
        self.pool = pool
        self.dialect = dialect

    @classmethod
    async def open(cls, url: str, *, app_role: str | None, size: int, dialect: Dialect) -> DriverPool:
        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        settings = {"role": app_role} if app_role else {}
        pool = await asyncpg.create_pool(plain, min_size=0, max_size=size, reset=_keep, server_settings=settings)
        return cls(pool, dialect)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A transaction on a pooled connection: committed when the block ends, rolled back if it
        raises."""
        connection, transaction = await self._begin(retry=True)
        try:
            yield Transaction(connection, self.dialect)
        except BaseException:
            if not connection.is_closed():  # a lost connection has nothing left to roll back
                await transaction.rollback()
            raise
        else:
            await transaction.commit()
        finally:
            await self.pool.release(connection)

    async def _begin(self, *, retry: bool) -> tuple[PoolConnectionProxy, asyncpg.transaction.Transaction]:
        connection = await self.pool.acquire()
        transaction = connection.transaction()
        try:
            await transaction.start()
        except Exception:  # BEGIN fails only on a connection that is gone
            connection.terminate()
            await self.pool.release(connection)
            if not retry:
                raise
            await self.pool.expire_connections()
            return await self._begin(retry=False)
        return connection, transaction

    async def close(self) -> None:
        await self.pool.close()
