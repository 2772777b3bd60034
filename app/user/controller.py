from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody
from msgspec import UnsetType

from app.auth.guards import requires
from app.auth.web_session import sessions_for
from app.dependencies import Actor, Db, State
from app.kit.pagination import Cursor, Limit, Page, page_request, paginate
from app.user import service
from app.user.models import User
from app.user.schemas import UserCreate, UserOut, UserUpdate


def to_out(user: User, location_ids: list[uuid.UUID]) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        active=user.active,
        location_ids=location_ids,
        last_login_at=user.last_login_at,
        created_at=user.created_at,
    )


async def _one(db: Db, operator: Actor, user: User) -> UserOut:
    return to_out(user, (await service.location_ids(db, operator, [user]))[user.id])


class UserController(Controller):
    path = "/users"
    tags = ["Users"]

    @get("/", operation_id="listUsers", summary="List console users", guards=[requires("users:read")])
    async def list_users(
        self,
        db: Db,
        operator: Actor,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[UserOut]:
        """The people who sign in to the operator's console, with their roles and, for location managers, the
        locations they manage; oldest first, a page at a time (pass `next_cursor` back as `cursor`)."""
        page = page_request(cursor, limit)
        users = await service.list_users(db, operator, page)
        locations = await service.location_ids(db, operator, users)
        return paginate(users, page, lambda user: to_out(user, locations[user.id]))

    @get("/{user_id:uuid}", operation_id="getUser", summary="Get a console user", guards=[requires("users:read")])
    async def get_user(self, db: Db, operator: Actor, user_id: FromPath[uuid.UUID]) -> UserOut:
        """One console user: role, whether active, the locations a location manager manages, and when they last
        signed in."""
        return await _one(db, operator, await service.get_user(db, operator, user_id))

    @post("/", operation_id="createUser", summary="Create a console user", guards=[requires("users:write")])
    async def create_user(self, db: Db, operator: Actor, app_state: State, data: JSONBody[UserCreate]) -> UserOut:
        """A new console user. Giving a role needs every permission of that role, and only an owner (or a key
        an owner made) may make an owner (403). A `location_manager` needs at least one of `location_ids`;
        other roles take none. Without `password` the user has none to sign in with until one is set. E-mail
        addresses are unique per operator (409)."""
        return await _one(
            db,
            operator,
            await service.create_user(db, operator, app_state.passwords, data),
        )

    @patch(
        "/{user_id:uuid}", operation_id="updateUser", summary="Update a console user", guards=[requires("users:write")]
    )
    async def update_user(
        self,
        db: Db,
        operator: Actor,
        app_state: State,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[UserUpdate],
    ) -> UserOut:
        """Change name, role, password or managed locations, under the same role rules as creating one; the
        last active owner cannot be demoted (409). A new password ends every console session of the user."""
        user = await service.update_user(db, operator, app_state.passwords, user_id, data)
        if not isinstance(data.password, UnsetType):
            await sessions_for(app_state).end_all("console", user.id)
        return await _one(db, operator, user)

    @post(
        "/{user_id:uuid}/deactivate",
        operation_id="deactivateUser",
        summary="Deactivate a console user",
        status_code=200,
        guards=[requires("users:write")],
    )
    async def deactivate_user(self, db: Db, operator: Actor, app_state: State, user_id: FromPath[uuid.UUID]) -> UserOut:
        """The user can no longer sign in, and their console sessions end at once. The last active owner cannot
        be deactivated (409)."""
        user = await service.set_user_active(db, operator, user_id, active=False)
        await sessions_for(app_state).end_all("console", user.id)
        return await _one(db, operator, user)

    @post(
        "/{user_id:uuid}/reactivate",
        operation_id="reactivateUser",
        summary="Reactivate a console user",
        status_code=200,
        guards=[requires("users:write")],
    )
    async def reactivate_user(self, db: Db, operator: Actor, user_id: FromPath[uuid.UUID]) -> UserOut:
        """Let a deactivated user sign in to the console again, with the role and locations they had."""
        return await _one(
            db,
            operator,
            await service.set_user_active(db, operator, user_id, active=True),
        )
