from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody

from app.auth.guards import requires
from app.dependencies import Actor, Db
from app.kit.pagination import Cursor, Limit, Page, page_request, paginate
from app.location import service
from app.location.models import Location
from app.location.schemas import LocationCreate, LocationOut, LocationUpdate


def to_out(location: Location) -> LocationOut:
    return msgspec.convert(location, LocationOut, from_attributes=True)


class LocationController(Controller):
    path = "/locations"
    tags = ["Locations"]

    @get("/", operation_id="listLocations", summary="List locations", guards=[requires("locations:read")])
    async def list_locations(
        self,
        db: Db,
        operator: Actor,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[LocationOut]:
        """The operator's sites, deactivated ones included, oldest first, a page at a time (pass `next_cursor`
        back as `cursor`). A location manager sees only the locations they manage."""
        page = page_request(cursor, limit)
        return paginate(await service.list_locations(db, operator, page), page, to_out)

    @get(
        "/{location_id:uuid}",
        operation_id="getLocation",
        summary="Get a location",
        guards=[requires("locations:read")],
    )
    async def get_location(self, db: Db, operator: Actor, location_id: FromPath[uuid.UUID]) -> LocationOut:
        """One site with its time zone, currency, tax mode, billing day and numbering templates. A location a
        location manager does not manage answers 404, as another operator's does."""
        return to_out(await service.get_location(db, operator, location_id))

    @post("/", operation_id="createLocation", summary="Create a location", guards=[requires("locations:write")])
    async def create_location(self, db: Db, operator: Actor, data: JSONBody[LocationCreate]) -> LocationOut:
        """A new site, active at once. `code` is unique among the operator's locations (409). The numbering
        templates default to `CODE-{number:06}` for invoices and `CODE-CN-{number:06}` for credit notes; no two
        templates of the operator may be the same (409)."""
        return to_out(await service.create_location(db, operator, data))

    @patch(
        "/{location_id:uuid}",
        operation_id="updateLocation",
        summary="Update a location",
        guards=[requires("locations:write")],
    )
    async def update_location(
        self, db: Db, operator: Actor, location_id: FromPath[uuid.UUID], data: JSONBody[LocationUpdate]
    ) -> LocationOut:
        """Change only the fields sent. Once the location has invoices, its `currency`, `tax_mode` and
        `billing_day` are fixed (409): open a new location instead. A new currency is also refused while
        companies calling the location home are billed in another."""
        return to_out(await service.update_location(db, operator, location_id, data))

    @post(
        "/{location_id:uuid}/deactivate",
        operation_id="deactivateLocation",
        summary="Deactivate a location",
        status_code=200,
        guards=[requires("locations:write")],
    )
    async def deactivate_location(self, db: Db, operator: Actor, location_id: FromPath[uuid.UUID]) -> LocationOut:
        """Close a site: it is never billed again and takes no new members, companies, memberships, resources,
        bookings or fees. Refused (409) while it still has running or unbilled memberships, pending fees,
        unbilled bookings or active companies calling it home."""
        return to_out(await service.set_location_active(db, operator, location_id, active=False))

    @post(
        "/{location_id:uuid}/reactivate",
        operation_id="reactivateLocation",
        summary="Reactivate a location",
        status_code=200,
        guards=[requires("locations:write")],
    )
    async def reactivate_location(self, db: Db, operator: Actor, location_id: FromPath[uuid.UUID]) -> LocationOut:
        """Open a closed site again, so that it is billed and takes new memberships, bookings and fees.
        Reactivating an open location changes nothing."""
        return to_out(await service.set_location_active(db, operator, location_id, active=True))
