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

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def select(self) -> Select[M]:
        return select(self.model).where(self.model.tenant_id == self.tenant_id)

    async def get(self, id_: uuid.UUID, *, for_update: bool = False, for_share: bool = False) -> M | None:
        """The row, optionally locked until the transaction ends: ``for_share`` keeps it from
        changing (e.g. a location being deactivated) while rows that depend on it are written."""
        lock = "update" if for_update else "share" if for_share else None
        params = {"tenant_id": self.tenant_id, "id": id_}
        found: M | None = (await self.session.execute(_by_id(self.model, lock), params)).scalar_one_or_none()
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
