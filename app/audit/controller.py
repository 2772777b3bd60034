from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery

from app.audit import service
from app.audit.models import AuditEvent
from app.audit.schemas import AuditEventOut
from app.auth.guards import requires
from app.dependencies import Actor, Db
from app.kit.pagination import Cursor, Limit, Page, page_request, paginate


def to_out(event: AuditEvent) -> AuditEventOut:
    return msgspec.convert(event, AuditEventOut, from_attributes=True)


class AuditController(Controller):
    path = "/audit-events"
    tags = ["Audit"]

    @get("/", operation_id="listAuditEvents", summary="List audit events", guards=[requires("audit:read")])
    async def list_events(
        self,
        db: Db,
        operator: Actor,
        cursor: Cursor = None,
        limit: Limit = None,
        object_type: FromQuery[str | None] = None,
        object_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[AuditEventOut]:
        """Every recorded change to the operator's data: who acted, the action, the values (on an update,
        each changed field as `[before, after]`; never secrets) and any reason given; oldest first, a page at
        a time (pass `next_cursor` back as `cursor`). Filter by `object_type` and `object_id` to read one
        object's history."""
        page = page_request(cursor, limit)
        events = await service.list_events(db, operator, page, object_type=object_type, object_id=object_id)
        return paginate(events, page, to_out)
