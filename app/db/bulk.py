"""Many rows in one INSERT: each column travels as one array parameter and the server unnests
them, so a batch is a single statement with a fixed text (prepared once per connection) instead
of one execution per row. Rows for several tables can go in one statement too (each insert but
the last a ``WITH`` clause): one round trip, and the keys between them are checked once the
statement has written them all. Row-level security, constraints and triggers apply as to any
insert. The statements go straight to the driver (``app.db.driver``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from asyncpg import Record
from sqlalchemy import ClauseElement, String, Table, bindparam, func, literal_column, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.types import TypeEngine

from app.db import driver
from app.db.base import Base


def _array_of(item: TypeEngine[Any]) -> ARRAY[Any]:
    """An array of the column's type, text without its length: an explicit cast to varchar(n)
    would cut a longer value, where the insert's own assignment to the column refuses it."""
    return ARRAY(String() if isinstance(item, String) else item)


def _statement(
    table: Table, same: tuple[str, ...], columns: tuple[str, ...], skip_conflicts: bool = False, prefix: str = ""
) -> Insert:
    """The insert; its parameters are the columns' names, after ``prefix``."""
    scalars = [bindparam(prefix + name, type_=table.c[name].type) for name in same]
    arrays = [
        sql_cast(bindparam(prefix + name, type_=_array_of(table.c[name].type)), _array_of(table.c[name].type))
        for name in columns
    ]
    rows = select(*scalars, literal_column("*")).select_from(func.unnest(*arrays))
    statement = insert(table).from_select(same + columns, rows)
    return statement.on_conflict_do_nothing() if skip_conflicts else statement


@cache
def _single(
    table: Table, same: tuple[str, ...], columns: tuple[str, ...], returning: tuple[str, ...], skip_conflicts: bool
) -> ClauseElement:
    statement = _statement(table, same, columns, skip_conflicts)
    return statement.returning(*(table.c[name] for name in returning)) if returning else statement


Shape = tuple[Table, tuple[str, ...], tuple[str, ...]]  # the table, columns sent once, columns sent as arrays


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows for one table (dicts with the same keys, named as its columns). The ``shared``
    columns are those expected to hold one value in every row (the tenant, the run, the time):
    each is sent once when it does."""

    model: type[Base]
    rows: Sequence[dict[str, Any]]
    shared: tuple[str, ...] = ()

    def split(self, prefix: str = "") -> tuple[Shape, dict[str, Any]]:
        """The statement's shape, and its parameters (named as the columns, after ``prefix``)."""
        first = self.rows[0]
        same = tuple(name for name in self.shared if all(row[name] == first[name] for row in self.rows))
        columns = tuple(name for name in first if name not in same)
        params = {prefix + name: first[name] for name in same} | {
            prefix + name: [row[name] for row in self.rows] for name in columns
        }
        return (cast(Table, self.model.__table__), same, columns), params


@cache
def _together(shapes: tuple[Shape, ...]) -> ClauseElement:
    """One statement inserting into each table in turn (parameters named ``t<i>_<column>``)."""
    inserts = [_statement(table, same, columns, prefix=f"t{i}_") for i, (table, same, columns) in enumerate(shapes)]
    *before, last = inserts
    return last.add_cte(*(insert.cte(f"t{i}") for i, insert in enumerate(before)))


async def insert_together(session: AsyncSession | AsyncConnection, batches: Sequence[Rows]) -> None:
    """Insert every batch (those with rows) in one statement, in the order given; keys between
    them (lines to their invoice) are checked after all are written."""
    parts = [batch.split(prefix=f"t{i}_") for i, batch in enumerate(batch for batch in batches if batch.rows)]
    if not parts:
        return
    params: dict[str, Any] = {}
    for _, part in parts:
        params |= part
    await driver.execute(session, _together(tuple(shape for shape, _ in parts)), params)


async def insert_rows(
    session: AsyncSession | AsyncConnection,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    *,
    shared: tuple[str, ...] = (),
    returning: tuple[str, ...] = (),
    skip_conflicts: bool = False,
) -> list[Record]:
    """Insert ``rows`` into the model's table (as ``Rows``); the ``returning`` columns of the rows
    inserted (with ``skip_conflicts``, of those that did not clash with an existing row)."""
    if not rows:
        return []
    (table, same, columns), params = Rows(model, rows, shared).split()
    statement = _single(table, same, columns, returning, skip_conflicts)
    if returning:
        return await driver.fetch(session, statement, params)
    await driver.execute(session, statement, params)
    return []
