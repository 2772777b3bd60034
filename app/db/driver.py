"""Statements sent straight to the driver connection, inside a session's transaction or a direct
one (``app.db.direct``).

A billing run is a few dozen statements per location, each cheap for the server; SQLAlchemy's
work per execution (compiled-cache look-up, parameter and result processing, loading entities)
cost more than PostgreSQL's. These statements are still built with SQLAlchemy, compiled once per
dialect, and their parameters encoded by the column types; only the execution skips the layers.
Rows come back as the driver's records (read by name or position), not entities: nothing read
this way is tracked by the session, so write it back through the ORM or a statement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, NoReturn, cast

import asyncpg
from sqlalchemy import ClauseElement, Select, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

from app.db.direct import Transaction

# What statements run in: a session's or connection's transaction, or a direct one (app.db.direct).
Target = AsyncSession | AsyncConnection | Transaction


@dataclass(frozen=True, slots=True)
class Compiled:
    sql: str
    order: tuple[str, ...]  # the parameters' names, in the order of $1, $2, ...
    fixed: Mapping[str, Any]  # values written into the statement itself (a literal compared with)
    encoders: Mapping[str, Callable[[Any], Any]]  # parameters the driver cannot take as they are


def _encoder(kind: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """How a parameter of this type is encoded for the driver (None: as it is). An array's
    items are encoded one by one, and None stays NULL."""
    if isinstance(kind, ARRAY):
        item = _encoder(kind.item_type, dialect)
        if item is None:
            return None
        return lambda values: [None if value is None else item(value) for value in values]
    return kind.dialect_impl(dialect).bind_processor(dialect)


@cache
def compiled(dialect: Dialect, statement: ClauseElement) -> Compiled:
    """``statement`` as the driver's SQL (statements are module constants, so this runs once)."""
    done = cast(SQLCompiler, statement.compile(dialect=dialect))
    encoders = {}
    for name, bind in done.binds.items():
        encode = _encoder(bind.type, dialect)
        if encode is not None:
            encoders[name] = encode
    fixed = {name: bind.value for name, bind in done.binds.items() if not bind.required}
    return Compiled(str(done), tuple(done.positiontup or ()), fixed, encoders)


def _arguments(statement: Compiled, params: Mapping[str, Any]) -> list[Any]:
    arguments = []
    for name in statement.order:
        value = params[name] if name in params else statement.fixed[name]
        encode = statement.encoders.get(name)
        arguments.append(value if encode is None or value is None else encode(value))
    return arguments


async def _run(
    connection: AsyncConnection | Transaction, statement: ClauseElement, params: Mapping[str, Any], rows: bool
) -> Any:
    if isinstance(connection, Transaction):
        # A direct transaction (app.db.direct): the driver's own errors come through as they are.
        prepared = compiled(connection.dialect, statement)
        arguments = _arguments(prepared, params)
        if rows:
            return await connection.connection.fetch(prepared.sql, *arguments)
        return await connection.connection.execute(prepared.sql, *arguments)
    prepared = compiled(connection.dialect, statement)
    arguments = _arguments(prepared, params)
    adapted = _adapter(connection)
    try:
        driver = await _begun(adapted)
        if rows:
            return await driver.fetch(prepared.sql, *arguments)
        return await driver.execute(prepared.sql, *arguments)
    except Exception as error:  # noqa: BLE001 - every error is raised again, as SQLAlchemy's
        return await _failed(connection, adapted, prepared.sql, error)


def _adapter(connection: AsyncConnection) -> Any:
    """The dialect's adapter of the connection's driver connection. The connection is open (a
    session's ``connection()`` opened it), so reaching it needs no I/O: no greenlet hop."""
    opened = connection.sync_connection
    assert opened is not None
    if not connection.in_transaction():
        # Outside SQLAlchemy's transaction each statement here would commit on its own.
        raise RuntimeError("driver statements run only inside the session's transaction")
    return opened.connection.dbapi_connection


async def _begun(adapted: Any) -> asyncpg.Connection:
    """The driver connection under ``adapted``, inside SQLAlchemy's transaction."""
    driver = adapted.driver_connection
    assert isinstance(driver, asyncpg.Connection)
    if adapted._transaction is None:
        # SQLAlchemy's transaction is open, but the dialect's adapter sends BEGIN only with the
        # first statement through SQLAlchemy. Begin it through the adapter as that statement
        # would, so that SQLAlchemy's commit or rollback ends this very transaction.
        await adapted._start_transaction()
    if not driver.is_in_transaction():  # an autocommit connection begins none
        raise RuntimeError("driver statements run only inside the session's transaction")
    return driver


async def driver_connection(connection: AsyncConnection) -> asyncpg.Connection:
    """The driver connection under ``connection``, inside its open transaction (begun if SQLAlchemy
    has not sent its BEGIN yet)."""
    return await _begun(_adapter(connection))


async def _failed(connection: AsyncConnection, adapted: Any, sql: str, error: Exception) -> NoReturn:
    """Raise what SQLAlchemy raises for its own statements (IntegrityError and so on, the driver's
    error underneath), so one set of handlers serves both paths. A connection found closed (the
    server restarted, failed over or ended it) is invalidated first, as SQLAlchemy does, so that
    neither the session nor the pool lends it again."""
    lost = adapted.driver_connection.is_closed()
    if lost:
        await connection.invalidate(error)
    dbapi_error = connection.dialect.loaded_dbapi.Error
    try:
        adapted._handle_exception(error)  # the driver's error as the dialect's DBAPI error
    except dbapi_error as translated:
        raise DBAPIError.instance(
            sql,
            None,
            translated,
            dbapi_error,
            hide_parameters=True,
            dialect=connection.dialect,
            connection_invalidated=lost,
        ) from error
    raise error  # not reached: the adapter raises again what it does not translate


def row_sets(*queries: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    """One statement answering several queries: each one's rows as one array of records, so a few
    small result sets cost one round trip. ``fetch`` gives one row; its n-th value is the n-th
    query's rows, as tuples in that query's column order (and order of rows)."""
    return select(
        *(
            func.array(
                query.with_only_columns(func.row(*query.selected_columns), maintain_column_froms=True).scalar_subquery()
            )
            for query in queries
        )
    )


async def _opened(target: Target) -> AsyncConnection | Transaction:
    return await target.connection() if isinstance(target, AsyncSession) else target


async def fetch(target: Target, statement: ClauseElement, params: Mapping[str, Any]) -> list[asyncpg.Record]:
    """Run ``statement`` with ``params`` and return its rows."""
    return list(await _run(await _opened(target), statement, params, rows=True))


async def execute(target: Target, statement: ClauseElement, params: Mapping[str, Any]) -> None:
    """Like ``fetch``, for a statement whose rows (if any) are not needed."""
    await _run(await _opened(target), statement, params, rows=False)
