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
    TimeCreditOut,
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
        time_credit=[TimeCreditOut(**use) for use in booking.time_credit],
        invoice_line_id=booking.invoice_line_id,
        created_at=booking.created_at,
    )


class ResourceController(Controller):
    path = "/resources"
    tags = ["Bookings"]

    @get("/", operation_id="listResources", summary="List resources", guards=[CATALOG_READ])
    async def list_resources(
        self,
        db: Db,
        operator: Actor,
        cursor: Cursor = None,
        limit: Limit = None,
        location_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[ResourceOut]:
        """Bookable rooms and desks with their hourly and daily rates in minor units, oldest first, a page at a
        time (pass `next_cursor` back as `cursor`); `location_id` narrows the list to one location."""
        page = page_request(cursor, limit)
        return paginate(await service.list_resources(db, operator, page, location_id), page, resource_out)

    @get("/{resource_id:uuid}", operation_id="getResource", summary="Get a resource", guards=[CATALOG_READ])
    async def get_resource(self, db: Db, operator: Actor, resource_id: FromPath[uuid.UUID]) -> ResourceOut:
        """One bookable resource: its kind, rates, capacity, revenue account and whether it can be booked."""
        return resource_out(await service.get_resource(db, operator, resource_id))

    @post("/", operation_id="createResource", summary="Create a resource", guards=[CATALOG_WRITE])
    async def create_resource(self, db: Db, operator: Actor, data: JSONBody[ResourceCreate]) -> ResourceOut:
        """A bookable resource at an active location with an `hourly_rate`, a `daily_rate` or both, in minor
        units of the location's currency. Names are unique per location (409). Without `revenue_account_id` its
        bookings book to the built-in booking fees account."""
        return resource_out(await service.create_resource(db, operator, data))

    @patch("/{resource_id:uuid}", operation_id="updateResource", summary="Update a resource", guards=[CATALOG_WRITE])
    async def update_resource(
        self, db: Db, operator: Actor, resource_id: FromPath[uuid.UUID], data: JSONBody[ResourceUpdate]
    ) -> ResourceOut:
        """Change the name, rates, capacity or `active`; at least one rate must remain. New rates apply to
        bookings made from now on: a booking keeps the price it was made at."""
        return resource_out(await service.update_resource(db, operator, resource_id, data))


class BookingController(Controller):
    path = "/bookings"
    tags = ["Bookings"]

    @get("/", operation_id="listBookings", summary="List bookings", guards=[READ])
    async def list_bookings(
        self,
        db: Db,
        operator: Actor,
        cursor: Cursor = None,
        limit: Limit = None,
        company_id: FromQuery[uuid.UUID | None] = None,
        resource_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[BookingOut]:
        """Bookings, oldest first, a page at a time (pass `next_cursor` back as `cursor`); filter by
        `company_id` or `resource_id`. `status` is `confirmed` (to be billed), `billed` or `cancelled`."""
        page = page_request(cursor, limit)
        rows = await service.list_bookings(db, operator, page, company_id=company_id, resource_id=resource_id)
        return paginate(rows, page, booking_out)

    @get("/{booking_id:uuid}", operation_id="getBooking", summary="Get a booking", guards=[READ])
    async def get_booking(self, db: Db, operator: Actor, booking_id: FromPath[uuid.UUID]) -> BookingOut:
        """One booking: its times (as instants and in the location's local time), its price in minor units and
        how each day was priced, the included credit it used, and its invoice line once billed."""
        return booking_out(await service.get_booking(db, operator, booking_id))

    @post("/", operation_id="createBooking", summary="Book a resource", guards=[WRITE])
    async def create_booking(self, db: Db, operator: Actor, data: JSONBody[BookingCreate]) -> BookingOut:
        """Book an active resource for an active company. Times without an offset are the location's local
        time; a booking lasts at most 31 days and may not overlap another of the resource (409). The price is
        fixed now, each day at the cheaper of its hourly and daily rates; the next billing run invoices it,
        less what the company's plans include."""
        return booking_out(await service.create_booking(db, operator, data))

    @post(
        "/{booking_id:uuid}/cancel",
        operation_id="cancelBooking",
        summary="Cancel a booking",
        status_code=200,
        guards=[WRITE],
    )
    async def cancel_booking(
        self, db: Db, operator: Actor, booking_id: FromPath[uuid.UUID], data: JSONBody[BookingCancel | None] = None
    ) -> BookingOut:
        """Cancel a booking that is not billed yet, freeing its time. A billed booking is refused (409): credit
        its invoice line instead. Cancelling a cancelled booking changes nothing."""
        reason = data.reason if data is not None else None
        return booking_out(await service.cancel_booking(db, operator, booking_id, reason))
