"""The tenant scope of every query: repositories add it, controllers and views never query."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, Uuid, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import TenantOwned
from app.kit.pagination import PageRequest

M = TypeVar("M", bound=TenantOwned)


_BY_ID: dict[tuple[type[TenantOwned], str | None], Select[Any]] = {}


def _by_id(model: type[TenantOwned], lock: str | None) -> Select[Any]:
    """One row by id, as a statement built once per model and lock (``get`` is the commonest query)."""
    statement = _BY_ID.get((model, lock))
    if statement is None:
        statement = select(model).where(
            model.tenant_id == bindparam("tenant_id", type_=Uuid()), model.id == bindparam("id", type_=Uuid())
        )
        if lock is not None:
            statement = statement.with_for_update(read=lock == "share")
        _BY_ID[model, lock] = statement
    return statement


class TenantRepository(Generic[M]):
    model: type[M]
    # The column naming the location a row belongs to, for operators limited to some locations.
    location_column: ClassVar[str] = "location_id"

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def select(self) -> Select[M]:
        return select(self.model).where(self.model.tenant_id == self.tenant_id)

    def visible(self, location_ids: Collection[uuid.UUID] | None, **equal_to: object) -> Select[M]:
        """The rows an operator limited to ``location_ids`` (None: every location) may see, with
        each column named in ``equal_to`` equal to its value (a None value filters nothing)."""
        statement = self.select()
        if location_ids is not None:
            statement = statement.where(getattr(self.model, self.location_column).in_(location_ids))
        for column, value in equal_to.items():
            if value is not None:
                statement = statement.where(getattr(self.model, column) == value)
        return statement

    async def get(self, id_: uuid.UUID, *, for_update: bool = False, for_share: bool = False) -> M | None:
        """The row, optionally locked until the transaction ends: ``for_share`` keeps it from
        changing (e.g. a location being deactivated) while rows that depend on it are written."""
        lock = "update" if for_update else "share" if for_share else None
        params = {"tenant_id": self.tenant_id, "id": id_}
        found: M | None = (await self.session.execute(_by_id(self.model, lock), params)).scalar_one_or_none()
        return found

    async def visible_one(
        self, id_: uuid.UUID, location_ids: Collection[uuid.UUID] | None, *, for_update: bool = False
    ) -> M | None:
        """The row, if an operator limited to ``location_ids`` (None: every location) may see it."""
        row = await self.get(id_, for_update=for_update)
        if row is None or (location_ids is not None and getattr(row, self.location_column) not in location_ids):
            return None
        return row

    async def by_ids(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, M]:
        """The rows with these ids, by id (missing ones left out), in one query."""
        if not ids:
            return {}
        rows = await self.session.execute(self.select().where(self.model.id.in_(ids)))
        return {row.id: row for row in rows.scalars()}

    async def page(self, request: PageRequest, statement: Select[M] | None = None) -> Sequence[M]:
        """One page in id order, fetched with one extra row so the caller can tell if more follow."""
        statement = self.select() if statement is None else statement
        if request.after is not None:
            statement = statement.where(self.model.id > request.after)
        statement = statement.order_by(self.model.id).limit(request.limit + 1)
        return (await self.session.execute(statement)).scalars().all()

    def add(self, row: M) -> M:
        row.tenant_id = self.tenant_id
        self.session.add(row)
        return row
