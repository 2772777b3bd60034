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

    @get("/", operation_id="listUsers", guards=[requires("users:read")])
    async def list_users(
        self,
        db: Db,
        operator: Actor,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[UserOut]:
        page = page_request(cursor, limit)
        users = await service.list_users(db, operator, page)
        locations = await service.location_ids(db, operator, users)
        return paginate(users, page, lambda user: to_out(user, locations[user.id]))

    @get("/{user_id:uuid}", operation_id="getUser", guards=[requires("users:read")])
    async def get_user(self, db: Db, operator: Actor, user_id: FromPath[uuid.UUID]) -> UserOut:
        return await _one(db, operator, await service.get_user(db, operator, user_id))

    @post("/", operation_id="createUser", guards=[requires("users:write")])
    async def create_user(self, db: Db, operator: Actor, app_state: State, data: JSONBody[UserCreate]) -> UserOut:
        return await _one(
            db,
            operator,
            await service.create_user(db, operator, app_state.passwords, data),
        )

    @patch("/{user_id:uuid}", operation_id="updateUser", guards=[requires("users:write")])
    async def update_user(
        self,
        db: Db,
        operator: Actor,
        app_state: State,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[UserUpdate],
    ) -> UserOut:
        user = await service.update_user(db, operator, app_state.passwords, user_id, data)
        if not isinstance(data.password, UnsetType):
            await sessions_for(app_state).end_all("console", user.id)
        return await _one(db, operator, user)

    @post(
        "/{user_id:uuid}/deactivate",
        operation_id="deactivateUser",
        status_code=200,
        guards=[requires("users:write")],
    )
    async def deactivate_user(self, db: Db, operator: Actor, app_state: State, user_id: FromPath[uuid.UUID]) -> UserOut:
        user = await service.set_user_active(db, operator, user_id, active=False)
        await sessions_for(app_state).end_all("console", user.id)
        return await _one(db, operator, user)

    @post(
        "/{user_id:uuid}/reactivate",
        operation_id="reactivateUser",
        status_code=200,
        guards=[requires("users:write")],
    )
    async def reactivate_user(self, db: Db, operator: Actor, user_id: FromPath[uuid.UUID]) -> UserOut:
        return await _one(
            db,
            operator,
            await service.set_user_active(db, operator, user_id, active=True),
        )
