from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from app.auth.guards import requires
from app.booking import service
from app.booking.models import Booking, Resource
from app.booking.schemas import (
    BookingCancel,
    BookingCreate,
    BookingOut,
    ResourceCreate,
    ResourceOut,
    ResourceUpdate,
)
from app.dependencies import Actor, Db
from app.kit.pagination import Cursor, Limit, Page, page_request, paginate

CATALOG_READ, CATALOG_WRITE = requires("catalog:read"), requires("catalog:write")
READ, WRITE = requires("bookings:read"), requires("bookings:write")


def resource_out(resource: Resource) -> ResourceOut:
    return msgspec.convert(resource, ResourceOut, from_attributes=True)


def booking_out(booking: Booking) -> BookingOut:
    zone = ZoneInfo(booking.pricing["time_zone"])
    return BookingOut(
        id=booking.id,
        location_id=booking.location_id,
        resource_id=booking.resource_id,
        company_id=booking.company_id,
        member_id=booking.member_id,
        title=booking.title,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        local_starts_at=service.local(booking.starts_at, zone),
        local_ends_at=service.local(booking.ends_at, zone),
        meeting_date=booking.meeting_date,
        minutes=booking.minutes,
        currency=booking.pricing["currency"],
        price=booking.price,
        pricing=booking.pricing,
        discount_id=booking.discount_id,
        status=booking.status,
        cancelled_reason=booking.cancelled_reason,
        credit_used=booking.credit_used,
        invoice_line_id=booking.invoice_line_id,
        created_at=booking.created_at,
    )


class ResourceController(Controller):
    path = "/resources"
    tags = ["Bookings"]

    @get("/", operation_id="listResources", guards=[CATALOG_READ])
    async def list_resources(
        self,
        db: Db,
        operator: Actor,
        cursor: Cursor = None,
        limit: Limit = None,
        location_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[ResourceOut]:
        page = page_request(cursor, limit)
        return paginate(await service.list_resources(db, operator, page, location_id), page, resource_out)

    @get("/{resource_id:uuid}", operation_id="getResource", guards=[CATALOG_READ])
    async def get_resource(self, db: Db, operator: Actor, resource_id: FromPath[uuid.UUID]) -> ResourceOut:
        return resource_out(await service.get_resource(db, operator, resource_id))

    @post("/", operation_id="createResource", guards=[CATALOG_WRITE])
    async def create_resource(self, db: Db, operator: Actor, data: JSONBody[ResourceCreate]) -> ResourceOut:
        return resource_out(await service.create_resource(db, operator, data))

    @patch("/{resource_id:uuid}", operation_id="updateResource", guards=[CATALOG_WRITE])
    async def update_resource(
        self, db: Db, operator: Actor, resource_id: FromPath[uuid.UUID], data: JSONBody[ResourceUpdate]
    ) -> ResourceOut:
        return resource_out(await service.update_resource(db, operator, resource_id, data))


class BookingController(Controller):
    path = "/bookings"
    tags = ["Bookings"]

    @get("/", operation_id="listBookings", guards=[READ])
    async def list_bookings(
        self,
        db: Db,
        operator: Actor,
        cursor: Cursor = None,
        limit: Limit = None,
        company_id: FromQuery[uuid.UUID | None] = None,
        resource_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[BookingOut]:
        page = page_request(cursor, limit)
        rows = await service.list_bookings(db, operator, page, company_id=company_id, resource_id=resource_id)
        return paginate(rows, page, booking_out)

    @get("/{booking_id:uuid}", operation_id="getBooking", guards=[READ])
    async def get_booking(self, db: Db, operator: Actor, booking_id: FromPath[uuid.UUID]) -> BookingOut:
        return booking_out(await service.get_booking(db, operator, booking_id))

    @post("/", operation_id="createBooking", guards=[WRITE])
    async def create_booking(self, db: Db, operator: Actor, data: JSONBody[BookingCreate]) -> BookingOut:
        return booking_out(await service.create_booking(db, operator, data))

    @post("/{booking_id:uuid}/cancel", operation_id="cancelBooking", status_code=200, guards=[WRITE])
    async def cancel_booking(
        self, db: Db, operator: Actor, booking_id: FromPath[uuid.UUID], data: JSONBody[BookingCancel | None] = None
    ) -> BookingOut:
        reason = data.reason if data is not None else None
        return booking_out(await service.cancel_booking(db, operator, booking_id, reason))
