"""Resources and bookings: times are taken in the location's time zone, a resource is never
booked twice at once, and the price is fixed when the booking is made."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Operator
from app.booking.models import Booking, Resource
from app.booking.pricing import price_booking, pricing_record
from app.booking.repository import BookingRepository, ResourceRepository
from app.booking.schemas import BookingCreate, ResourceCreate, ResourceUpdate
from app.catalog.service import revenue_account, usable_discount
from app.company.service import billable_company
from app.db.integrity import flush_unique
from app.kit.errors import Conflict, InvalidInput, NotFound
from app.kit.money import MAX_AMOUNT
from app.kit.pagination import PageRequest
from app.kit.schema import apply_patch
from app.location.repository import LocationRepository
from app.location.service import usable_location
from app.member.service import usable_member

LONGEST_BOOKING = timedelta(days=31)
NAME_TAKEN = "uq_resources_location_name"


async def create_resource(session: AsyncSession, operator: Operator, data: ResourceCreate) -> Resource:
    location = await usable_location(session, operator, data.location_id)
    account_id = await revenue_account(session, operator, data.revenue_account_id, "booking_fees")
    resource = ResourceRepository(session, operator.tenant_id).add(
        Resource(
            location_id=location.id,
            name=data.name,
            kind=data.kind,
            hourly_rate=data.hourly_rate,
            daily_rate=data.daily_rate,
            revenue_account_id=account_id,
            capacity=data.capacity,
            active=True,
        )
    )
    await flush_unique(session, {NAME_TAKEN: f"{location.name} already has a resource named '{data.name}'."})
    return resource


async def get_resource(
    session: AsyncSession, operator: Operator, resource_id: uuid.UUID, *, for_update: bool = False
) -> Resource:
    resource = await ResourceRepository(session, operator.tenant_id).visible_one(
        resource_id, operator.location_ids, for_update=for_update
    )
    if resource is None:
        raise NotFound("No such resource.")
    return resource


async def list_resources(
    session: AsyncSession, operator: Operator, page: PageRequest, location_id: uuid.UUID | None
) -> Sequence[Resource]:
    repo = ResourceRepository(session, operator.tenant_id)
    return await repo.page(page, repo.visible(operator.location_ids, location_id=location_id))


async def update_resource(
    session: AsyncSession, operator: Operator, resource_id: uuid.UUID, data: ResourceUpdate
) -> Resource:
    resource = await get_resource(session, operator, resource_id, for_update=True)
    apply_patch(resource, data)
    if resource.hourly_rate is None and resource.daily_rate is None:
        raise Conflict("A resource needs an hourly_rate, a daily_rate or both.")
    await flush_unique(session, {NAME_TAKEN: f"This location already has a resource named '{resource.name}'."})
    return resource


def to_instant(moment: datetime, zone: ZoneInfo, field: str) -> datetime:
    """An aware instant from what the client sent: an offset is kept, a bare local time is read in
    the location's time zone, and one that the clock skips or repeats there is refused."""
    if moment.second or moment.microsecond:
        raise InvalidInput(f"{field} must be a whole minute.")
    if not 2000 <= moment.year <= 2999:
        raise InvalidInput(f"{field} must be in the years 2000 to 2999.")
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    first, second = moment.replace(tzinfo=zone, fold=0), moment.replace(tzinfo=zone, fold=1)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
        raise InvalidInput(f"{field} {moment:%Y-%m-%d %H:%M} does not exist in {zone.key} (the clocks go forward).")
    if first.utcoffset() != second.utcoffset():
        raise InvalidInput(
            f"{field} {moment:%Y-%m-%d %H:%M} happens twice in {zone.key} (the clocks go back); give it with an offset."
        )
    return first.astimezone(UTC)


def local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="minutes")


async def _clash(
    session: AsyncSession,
    operator: Operator,
    resource_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
    zone: ZoneInfo,
) -> None:
    """Refuse a booking that would overlap another one of the resource (the resource row is locked)."""
    statement = (
        BookingRepository(session, operator.tenant_id)
        .select()
        .where(
            Booking.resource_id == resource_id,
            Booking.status != "cancelled",
            Booking.starts_at < ends_at,
            Booking.ends_at > starts_at,
        )
        .limit(1)
    )
    other = (await session.execute(statement)).scalar_one_or_none()
    if other is not None:
        raise Conflict(
            f"The resource is already booked from {local(other.starts_at, zone)} to {local(other.ends_at, zone)}."
        )


async def create_booking(session: AsyncSession, operator: Operator, data: BookingCreate) -> Booking:
    # Locked: bookings of one resource are made one at a time, so the overlap check holds.
    resource = await ResourceRepository(session, operator.tenant_id).visible_one(
        data.resource_id, operator.location_ids, for_update=True
    )
    if resource is None:
        raise NotFound(f"Resource {data.resource_id} does not exist.")
    if not resource.active:
        raise Conflict(f"{resource.name} is deactivated and cannot be booked.")
    location = await LocationRepository(session, operator.tenant_id).get(resource.location_id, for_share=True)
    assert location is not None
    if not location.active:
        raise Conflict(f"{location.name} is deactivated.")
    company = await billable_company(session, operator, data.company_id, location)
    await usable_member(session, operator, data.member_id, company_id=company.id)
    zone = ZoneInfo(location.time_zone)
    starts_at = to_instant(data.starts_at, zone, "starts_at")
    ends_at = to_instant(data.ends_at, zone, "ends_at")
    if ends_at <= starts_at:
        raise InvalidInput(f"ends_at {local(ends_at, zone)} is not after starts_at {local(starts_at, zone)}.")
    if ends_at - starts_at > LONGEST_BOOKING:
        raise InvalidInput("A booking can last at most 31 days; book longer stays as a membership.")
    discount = await usable_discount(session, operator, data.discount_id, location.currency)
    price, days = price_booking(starts_at, ends_at, zone, resource.hourly_rate, resource.daily_rate)
    if price > MAX_AMOUNT:
        problem = f"ends_at: at {resource.name}'s rates this booking costs {price}, more than one line may hold"
        raise Conflict(problem, errors=[{"key": "ends_at", "message": problem}])
    await _clash(session, operator, resource.id, starts_at, ends_at, zone)
    booking = BookingRepository(session, operator.tenant_id).add(
        Booking(
            location_id=location.id,
            resource_id=resource.id,
            company_id=company.id,
            member_id=data.member_id,
            title=data.title,
            starts_at=starts_at,
            ends_at=ends_at,
            meeting_date=starts_at.astimezone(zone).date(),
            minutes=int((ends_at - starts_at).total_seconds()) // 60,
            price=price,
            pricing=pricing_record(
                days, resource.hourly_rate, resource.daily_rate, location.currency, location.time_zone
            ),
            discount_id=discount.id if discount is not None else None,
            status="confirmed",
            credit_used=0,
        )
    )
    await session.flush()
    return booking


async def get_booking(
    session: AsyncSession, operator: Operator, booking_id: uuid.UUID, *, for_update: bool = False
) -> Booking:
    booking = await BookingRepository(session, operator.tenant_id).visible_one(
        booking_id, operator.location_ids, for_update=for_update
    )
    if booking is None:
        raise NotFound("No such booking.")
    return booking


async def list_bookings(
    session: AsyncSession,
    operator: Operator,
    page: PageRequest,
    *,
    company_id: uuid.UUID | None = None,
    resource_id: uuid.UUID | None = None,
) -> Sequence[Booking]:
    repo = BookingRepository(session, operator.tenant_id)
    return await repo.page(page, repo.visible(operator.location_ids, company_id=company_id, resource_id=resource_id))


async def cancel_booking(
    session: AsyncSession, operator: Operator, booking_id: uuid.UUID, reason: str | None
) -> Booking:
    booking = await get_booking(session, operator, booking_id, for_update=True)
    if booking.status == "billed":
        raise Conflict("This booking is already billed; credit its invoice line instead.")
    if booking.status == "confirmed":
        booking.status, booking.cancelled_reason = "cancelled", reason
        await session.flush()
    return booking
