from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from app.auth.guards import requires
from app.dependencies import Actor, Db, State
from app.kit.pagination import Cursor, Limit, Page, page_request, paginate
from app.membership import service
from app.membership.models import Membership
from app.membership.schemas import MembershipCreate, MembershipOut, MembershipUpdate

READ, WRITE = requires("companies:read"), requires("companies:write")


def to_out(membership: Membership) -> MembershipOut:
    return msgspec.convert(membership, MembershipOut, from_attributes=True)


class MembershipController(Controller):
    path = "/memberships"
    tags = ["Memberships"]

    @get("/", operation_id="listMemberships", summary="List memberships", guards=[READ])
    async def list_memberships(
        self,
        db: Db,
        operator: Actor,
        cursor: Cursor = None,
        limit: Limit = None,
        company_id: FromQuery[uuid.UUID | None] = None,
        location_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[MembershipOut]:
        """Plans held by companies at locations, oldest first, a page at a time (pass `next_cursor` back as
        `cursor`); filter by `company_id` or `location_id`."""
        page = page_request(cursor, limit)
        rows = await service.list_memberships(db, operator, page, company_id=company_id, location_id=location_id)
        return paginate(rows, page, to_out)

    @get("/{membership_id:uuid}", operation_id="getMembership", summary="Get a membership", guards=[READ])
    async def get_membership(self, db: Db, operator: Actor, membership_id: FromPath[uuid.UUID]) -> MembershipOut:
        """One membership: its plan, company, member, location, dates, quantity, price override and discount."""
        return to_out(await service.get_membership(db, operator, membership_id))

    @post("/", operation_id="createMembership", summary="Create a membership", guards=[WRITE])
    async def create_membership(self, db: Db, operator: Actor, data: JSONBody[MembershipCreate]) -> MembershipOut:
        """A company takes a plan at a location from `start_date` (to `end_date`, if given). Company, plan and
        location must be active and in one currency (409; 404 for an id that names nothing).
        Runs bill it in advance, partial periods prorated if the plan is; a backdated start is caught up
        by the next run."""
        return to_out(await service.create_membership(db, operator, data))

    @patch("/{membership_id:uuid}", operation_id="updateMembership", summary="Update a membership", guards=[WRITE])
    async def update_membership(
        self,
        db: Db,
        operator: Actor,
        app_state: State,
        membership_id: FromPath[uuid.UUID],
        data: JSONBody[MembershipUpdate],
    ) -> MembershipOut:
        """Change the end date, member, quantity, price override, discount or notes, for periods not billed
        yet. An end inside periods already invoiced credits their unused days with credit notes (needs
        `billing:write`, 403 without); on draft invoices it is refused (409): void or issue them first."""
        return to_out(await service.update_membership(db, operator, membership_id, data, app_state.clock))
