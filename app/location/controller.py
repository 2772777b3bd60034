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

    @get("/", operation_id="listLocations", guards=[requires("locations:read")])
    async def list_locations(
        self,
        db: Db,
        operator: Actor,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[LocationOut]:
        page = page_request(cursor, limit)
        return paginate(await service.list_locations(db, operator, page), page, to_out)

    @get(
        "/{location_id:uuid}",
        operation_id="getLocation",
        guards=[requires("locations:read")],
    )
    async def get_location(self, db: Db, operator: Actor, location_id: FromPath[uuid.UUID]) -> LocationOut:
        return to_out(await service.get_location(db, operator, location_id))

    @post("/", operation_id="createLocation", guards=[requires("locations:write")])
    async def create_location(self, db: Db, operator: Actor, data: JSONBody[LocationCreate]) -> LocationOut:
        return to_out(await service.create_location(db, operator, data))

    @patch(
        "/{location_id:uuid}",
        operation_id="updateLocation",
        guards=[requires("locations:write")],
    )
    async def update_location(
        self, db: Db, operator: Actor, location_id: FromPath[uuid.UUID], data: JSONBody[LocationUpdate]
    ) -> LocationOut:
        return to_out(await service.update_location(db, operator, location_id, data))

    @post(
        "/{location_id:uuid}/deactivate",
        operation_id="deactivateLocation",
        status_code=200,
        guards=[requires("locations:write")],
    )
    async def deactivate_location(self, db: Db, operator: Actor, location_id: FromPath[uuid.UUID]) -> LocationOut:
        return to_out(await service.set_location_active(db, operator, location_id, active=False))

    @post(
        "/{location_id:uuid}/reactivate",
        operation_id="reactivateLocation",
        status_code=200,
        guards=[requires("locations:write")],
    )
    async def reactivate_location(self, db: Db, operator: Actor, location_id: FromPath[uuid.UUID]) -> LocationOut:
        return to_out(await service.set_location_active(db, operator, location_id, active=True))
