"""Many rows in one INSERT: each column travels as one array parameter and the server unnests
them, so a batch is a single statement with a fixed text (prepared once per connection) instead
of one execution per row. Row-level security, constraints and triggers apply as to any insert.
The statement goes straight to the driver (``app.db.driver``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, cast

from asyncpg import Record
from sqlalchemy import ClauseElement, String, Table, bindparam, func, literal_column, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.types import TypeEngine

from app.db import driver
from app.db.base import Base


def _array_of(item: TypeEngine[Any]) -> ARRAY[Any]:
    """An array of the column's type, text without its length: an explicit cast to varchar(n)
    would cut a longer value, where the insert's own assignment to the column refuses it."""
    return ARRAY(String() if isinstance(item, String) else item)


@cache
def _statement(
    table: Table, same: tuple[str, ...], columns: tuple[str, ...], returning: tuple[str, ...], skip_conflicts: bool
) -> ClauseElement:
    scalars = [bindparam(name, type_=table.c[name].type) for name in same]
    arrays = [
        sql_cast(bindparam(name, type_=_array_of(table.c[name].type)), _array_of(table.c[name].type))
        for name in columns
    ]
    rows = select(*scalars, literal_column("*")).select_from(func.unnest(*arrays))
    statement = insert(table).from_select(same + columns, rows)
    if skip_conflicts:
        statement = statement.on_conflict_do_nothing()
    if returning:
        return statement.returning(*(table.c[name] for name in returning))
    return statement


async def insert_rows(
    session: AsyncSession | AsyncConnection,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    *,
    shared: tuple[str, ...] = (),
    returning: tuple[str, ...] = (),
    skip_conflicts: bool = False,
) -> list[Record]:
    """Insert ``rows`` (dicts with the same keys, named as the columns) into the model's table;
    the ``returning`` columns of the rows inserted (with ``skip_conflicts``, of those that did not
    clash with an existing row). The ``shared`` columns are those expected to hold one value in
    every row (the tenant, the run, the time): each is sent once when it does."""
    if not rows:
        return []
    first = rows[0]
    same = tuple(name for name in shared if all(row[name] == first[name] for row in rows))
    columns = tuple(name for name in first if name not in same)
    statement = _statement(cast(Table, model.__table__), same, columns, returning, skip_conflicts)
    params = {name: first[name] for name in same} | {name: [row[name] for row in rows] for name in columns}
    if returning:
        return await driver.fetch(session, statement, params)
    await driver.execute(session, statement, params)
    return []
