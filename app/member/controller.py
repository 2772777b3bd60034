from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import UnsetType

from app.auth.guards import requires
from app.auth.web_session import sessions_for
from app.dependencies import Actor, Db, State
from app.kit.pagination import Cursor, Limit, Page, page_request, paginate
from app.member import service
from app.member.models import Member
from app.member.schemas import MemberCreate, MemberOut, MemberUpdate


def to_out(member: Member) -> MemberOut:
    return msgspec.convert(member, MemberOut, from_attributes=True)


class MemberController(Controller):
    path = "/members"
    tags = ["Members"]

    @get("/", operation_id="listMembers", summary="List members", guards=[requires("members:read")])
    async def list_members(
        self,
        db: Db,
        operator: Actor,
        cursor: Cursor = None,
        limit: Limit = None,
        location_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[MemberOut]:
        """The people who use the spaces, oldest first, a page at a time (pass `next_cursor` back as `cursor`);
        `location_id` narrows the list to one location's members. A location manager sees only the members of
        their locations."""
        page = page_request(cursor, limit)
        return paginate(
            await service.list_members(db, operator, page, location_id=location_id),
            page,
            to_out,
        )

    @get("/{member_id:uuid}", operation_id="getMember", summary="Get a member", guards=[requires("members:read")])
    async def get_member(self, db: Db, operator: Actor, member_id: FromPath[uuid.UUID]) -> MemberOut:
        """One member's contact details, location and whether they are active. A member of a location a
        location manager does not manage answers 404."""
        return to_out(await service.get_member(db, operator, member_id))

    @post("/", operation_id="createMember", summary="Create a member", guards=[requires("members:write")])
    async def create_member(self, db: Db, operator: Actor, app_state: State, data: JSONBody[MemberCreate]) -> MemberOut:
        """A new member at an active location; e-mail addresses are unique per operator (409). With `password`
        they can sign in to the member portal and app straight away. Unless `send_welcome` is false, a welcome
        e-mail with the portal's sign-in address is queued for them."""
        return to_out(await service.create_member(db, operator, app_state.passwords, app_state.settings, data))

    @patch(
        "/{member_id:uuid}",
        operation_id="updateMember",
        summary="Update a member",
        guards=[requires("members:write")],
    )
    async def update_member(
        self,
        db: Db,
        operator: Actor,
        app_state: State,
        member_id: FromPath[uuid.UUID],
        data: JSONBody[MemberUpdate],
    ) -> MemberOut:
        """Change only the fields sent; a new `location_id` must be an active location. A new password revokes
        every app token of the member and ends their portal sessions."""
        member = await service.update_member(db, operator, app_state.passwords, member_id, data)
        if not isinstance(data.password, UnsetType):
            await sessions_for(app_state).end_all("portal", member.id)
        return to_out(member)

    @post(
        "/{member_id:uuid}/deactivate",
        operation_id="deactivateMember",
        summary="Deactivate a member",
        status_code=200,
        guards=[requires("members:write")],
    )
    async def deactivate_member(
        self, db: Db, operator: Actor, app_state: State, member_id: FromPath[uuid.UUID]
    ) -> MemberOut:
        """The member can no longer sign in: their app tokens are revoked and their portal sessions end, so
        reactivating them later does not bring old sign-ins back."""
        member = await service.set_member_active(db, operator, member_id, active=False)
        await sessions_for(app_state).end_all("portal", member.id)
        return to_out(member)

    @post(
        "/{member_id:uuid}/reactivate",
        operation_id="reactivateMember",
        summary="Reactivate a member",
        status_code=200,
        guards=[requires("members:write")],
    )
    async def reactivate_member(self, db: Db, operator: Actor, member_id: FromPath[uuid.UUID]) -> MemberOut:
        """Let a deactivated member sign in again; the tokens revoked when they were deactivated stay revoked,
        so the app signs in afresh."""
        return to_out(await service.set_member_active(db, operator, member_id, active=True))
