"""The member's own API, for the mobile apps: ``/api/v1/me``, with member bearer tokens."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import JSONBody

from app.auth import service as auth
from app.dependencies import Db, Me, State, Throttle
from app.kit.request_context import client_address
from app.member import service
from app.member.controller import to_out
from app.member.repository import MemberRepository
from app.member.schemas import (
    MemberOut,
    MemberSelfUpdate,
    MemberTokenCreate,
    MemberTokenOut,
)


class MeController(Controller):
    path = "/me"
    tags = ["Member: me"]

    @get("/", operation_id="getMe")
    async def get_me(self, db: Db, member: Me) -> MemberOut:
        return to_out(await service.get_self(db, member))

    @patch("/", operation_id="updateMe")
    async def update_me(self, db: Db, member: Me, data: JSONBody[MemberSelfUpdate]) -> MemberOut:
        return to_out(await service.update_self(db, member, data))

    @delete("/token", operation_id="revokeMyToken")
    async def revoke_my_token(self, db: Db, member: Me, app_state: State) -> None:
        await auth.revoke_member_token(db, app_state, member)


class MemberTokenController(Controller):
    """Sign-in for the mobile apps: trades a member's password for a bearer token."""

    path = "/auth/member-tokens"
    tags = ["Member: me"]

    @post("/", operation_id="createMemberToken")
    async def create_member_token(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        app_state: State,
        throttle: Throttle,
        data: JSONBody[MemberTokenCreate],
    ) -> MemberTokenOut:
        credentials = auth.Credentials(data.organisation, data.email, data.password, client_address(request))
        member = await auth.sign_in(db, app_state, throttle, MemberRepository, credentials)
        token, expires_at = await auth.issue_member_token(db, app_state, member, data.device_name)
        return MemberTokenOut(token=token, expires_at=expires_at)
