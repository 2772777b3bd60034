"""The tenant scope of every query: repositories add it, controllers and views never query."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, Uuid, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import TenantOwned
from app.kit.pagination import PageRequest

M = TypeVar("M", bound=TenantOwned)


_BY_ID: dict[tuple[type[TenantOwned], bool], Select[Any]] = {}


def _by_id(model: type[TenantOwned], for_update: bool) -> Select[Any]:
    """One row by id, as a statement built once per model (``get`` is the commonest query)."""
    statement = _BY_ID.get((model, for_update))
    if statement is None:
        statement = select(model).where(
            model.tenant_id == bindparam("tenant_id", type_=Uuid()), model.id == bindparam("id", type_=Uuid())
        )
        statement = _BY_ID[model, for_update] = statement.with_for_update() if for_update else statement
    return statement


class TenantRepository(Generic[M]):
    model: type[M]

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def select(self) -> Select[M]:
        return select(self.model).where(self.model.tenant_id == self.tenant_id)

    async def get(self, id_: uuid.UUID, *, for_update: bool = False) -> M | None:
        params = {"tenant_id": self.tenant_id, "id": id_}
        found: M | None = (await self.session.execute(_by_id(self.model, for_update), params)).scalar_one_or_none()
        return found

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
