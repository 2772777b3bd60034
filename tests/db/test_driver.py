"""Statements sent straight to the driver behave as SQLAlchemy's own: same rows, same errors,
same transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Uuid, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit.capture import event_rows
from app.audit.models import AuditEvent
from app.db import driver
from app.db.bulk import insert_together
from app.db.engine import bind_tenant
from app.kit.errors import driver_error
from app.kit.ids import new_id
from app.location.models import Location
from tests.support.worlds import World

_ACTIVE_HERE = select(Location.id, Location.name, Location.billing_day).where(
    Location.tenant_id == bindparam("tenant_id", type_=Uuid()), Location.active.is_(True)
)


async def test_rows_read_through_the_driver_are_those_sqlalchemy_reads(db: AsyncSession, world_a: World) -> None:
    await bind_tenant(db, world_a.tenant_id)
    async with db.begin():
        params = {"tenant_id": world_a.tenant_id}
        direct = [tuple(row) for row in await driver.fetch(db, _ACTIVE_HERE, params)]
        through_orm = [tuple(row) for row in await db.execute(_ACTIVE_HERE, params)]
        assert direct == through_orm
        assert (world_a.location.id, world_a.location.name, world_a.location.billing_day) in direct


def _event(world: World, event_id: Any) -> dict[str, Any]:
    return {
        "tenant_id": world.tenant_id,
        "id": event_id,
        "actor": "user:test",
        "action": "create",
        "object_type": "driver_test",
        "object_id": world.invoice.id,
        "changes": {"n": 1},
        "reason": None,
    }


async def test_a_refused_statement_raises_what_sqlalchemy_raises_and_writes_nothing(
    db: AsyncSession, world_a: World
) -> None:
    """The API's error handlers (409 for a constraint, the lock date...) serve both paths."""
    await bind_tenant(db, world_a.tenant_id)
    async with db.begin():
        taken = new_id()
        await insert_together(db, [event_rows([_event(world_a, taken)])])
        with pytest.raises(IntegrityError) as refused:
            async with db.begin_nested():
                await insert_together(db, [event_rows([_event(world_a, new_id()), _event(world_a, taken)])])
        assert getattr(driver_error(refused.value), "constraint_name", None) == "pk_audit_events"
        kept = await db.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.object_type == "driver_test")
        )
        assert kept == 1  # the first write stays, the refused batch left nothing


async def test_driver_statements_run_only_inside_a_transaction(engine: AsyncEngine, world_a: World) -> None:
    """Outside one, each statement would commit on its own: refused before anything is sent."""
    async with engine.connect() as connection:
        with pytest.raises(RuntimeError, match="inside the session's transaction"):
            await driver.fetch(connection, _ACTIVE_HERE, {"tenant_id": world_a.tenant_id})
