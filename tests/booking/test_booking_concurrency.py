"""Bookings of one slot made at the same moment on separate connections: one wins."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from app.auth.principal import Operator
from app.booking.models import Booking, Resource
from app.booking.schemas import BookingCreate, ResourceCreate
from app.booking.service import create_booking, create_resource
from app.db.engine import bind_tenant
from app.kit.errors import Conflict
from app.state import AppState
from tests.support.worlds import new_customer, open_tenant

ATTEMPTS = 4


async def _setup(state: AppState) -> tuple[Operator, uuid.UUID, uuid.UUID]:
    async with state.sessionmaker() as session, session.begin():
        operator, location = await open_tenant(session, state)
        company = await new_customer(session, operator, location)
        resource = await create_resource(
            session, operator, ResourceCreate(location_id=location.id, name="Boardroom", hourly_rate=3000)
        )
    return operator, resource.id, company.id


async def _count(state: AppState, tenant_id: uuid.UUID) -> int:
    async with state.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant_id)
        return (await session.execute(select(func.count()).select_from(Booking))).scalar_one()


async def test_through_the_service_one_booking_wins(live: AppState) -> None:
    operator, resource_id, company_id = await _setup(live)
    request = BookingCreate(
        resource_id=resource_id,
        company_id=company_id,
        starts_at=datetime(2026, 12, 9, 10, 0),
        ends_at=datetime(2026, 12, 9, 11, 0),
    )

    async def attempt() -> str:
        try:
            async with live.sessionmaker() as session, session.begin():
                await bind_tenant(session, operator.tenant_id)
                await create_booking(session, operator, request)
        except Conflict:
            return "refused"
        return "booked"

    outcomes = await asyncio.gather(*(attempt() for _ in range(ATTEMPTS)))
    assert sorted(outcomes) == ["booked"] + ["refused"] * (ATTEMPTS - 1)
    assert await _count(live, operator.tenant_id) == 1


async def test_the_database_alone_lets_one_overlapping_row_in(live: AppState) -> None:
    """Rows written without the service (no lock taken first) still never overlap."""
    operator, resource_id, company_id = await _setup(live)
    assert await _count(live, operator.tenant_id) == 0

    async def attempt(offset: int) -> str:
        try:
            async with live.sessionmaker() as session, session.begin():
                await bind_tenant(session, operator.tenant_id)
                resource = await session.get_one(Resource, (operator.tenant_id, resource_id))
                session.add(
                    Booking(
                        tenant_id=operator.tenant_id,
                        location_id=resource.location_id,
                        resource_id=resource_id,
                        company_id=company_id,
                        starts_at=datetime(2026, 12, 9, 10, offset, tzinfo=UTC),
                        ends_at=datetime(2026, 12, 9, 11, offset, tzinfo=UTC),
                        meeting_date=datetime(2026, 12, 9).date(),
                        minutes=60,
                        price=3000,
                        pricing={"currency": "GBP", "time_zone": "Europe/London", "days": []},
                        status="confirmed",
                        credit_used=0,
                    )
                )
        except DBAPIError as exc:
            return "refused" if "already booked" in str(exc) else f"failed: {exc}"
        return "booked"

    outcomes = await asyncio.gather(*(attempt(minute) for minute in range(ATTEMPTS)))
    assert sorted(outcomes) == ["booked"] + ["refused"] * (ATTEMPTS - 1)
    assert await _count(live, operator.tenant_id) == 1
