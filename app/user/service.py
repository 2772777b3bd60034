"""Operator users: who may sign in to the console, and with which role.

Only an owner may make or change an owner; the last active owner cannot be demoted or deactivated;
a location manager must be given the locations they manage.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from msgspec import UnsetType
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import ROLE_SCOPES, Operator
from app.db.integrity import flush_unique
from app.kit.errors import Conflict, Forbidden, NotFound
from app.kit.pagination import PageRequest
from app.kit.schema import valid_email
from app.kit.security import Passwords
from app.location.repository import LocationRepository
from app.user.models import User
from app.user.repository import UserRepository
from app.user.schemas import UserCreate, UserUpdate

_UNIQUE = {"uq_users_tenant_id_email": "A user with this e-mail address already exists."}


def _repo(session: AsyncSession, operator: Operator) -> UserRepository:
    return UserRepository(session, operator.tenant_id)


def _check_can_manage(operator: Operator, *roles: str) -> None:
    """Nobody hands out (or takes over, by resetting a password) more power than they hold:
    managing a user of a role needs every permission of that role, and owners need an owner."""
    for role in roles:
        if role == "owner" and operator.role != "owner":
            raise Forbidden("Only an owner, or a key an owner made, may grant or change the owner role.")
        missing = sorted(ROLE_SCOPES[role] - operator.scopes)
        if missing:
            raise Forbidden(f"Managing a user with the {role} role needs permissions this credential lacks: {missing}.")


async def _check_locations(
    session: AsyncSession,
    operator: Operator,
    role: str,
    location_ids: Sequence[uuid.UUID],
) -> None:
    if role != "location_manager":
        if location_ids:
            raise Conflict("location_ids applies only to the location_manager role.")
        return
    if not location_ids:
        raise Conflict("A location manager needs at least one location in location_ids.")
    locations = LocationRepository(session, operator.tenant_id)
    for location_id in location_ids:
        if await locations.get(location_id) is None:
            raise NotFound(f"Location {location_id} does not exist.")


async def list_users(session: AsyncSession, operator: Operator, page: PageRequest) -> Sequence[User]:
    return await _repo(session, operator).page(page)


async def get_user(
    session: AsyncSession,
    operator: Operator,
    user_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> User:
    user = await _repo(session, operator).get(user_id, for_update=for_update)
    if user is None:
        raise NotFound("No such user.")
    return user


async def location_ids(
    session: AsyncSession, operator: Operator, users: Sequence[User]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    return await _repo(session, operator).location_ids(user.id for user in users)


async def create_user(session: AsyncSession, operator: Operator, passwords: Passwords, data: UserCreate) -> User:
    _check_can_manage(operator, data.role)
    await _check_locations(session, operator, data.role, data.location_ids)
    repo = _repo(session, operator)
    user = repo.add(
        User(
            email=valid_email(data.email),
            name=data.name,
            role=data.role,
            password_hash=await passwords.hash(data.password) if data.password else None,
            active=True,
        )
    )
    await flush_unique(session, _UNIQUE)
    await repo.set_locations(user.id, data.location_ids)
    await session.flush()
    return user


async def update_user(
    session: AsyncSession,
    operator: Operator,
    passwords: Passwords,
    user_id: uuid.UUID,
    data: UserUpdate,
) -> User:
    repo = _repo(session, operator)
    user = await get_user(session, operator, user_id, for_update=True)
    new_role = user.role if isinstance(data.role, UnsetType) else data.role
    _check_can_manage(operator, user.role, new_role)
    if user.role == "owner" and new_role != "owner":
        await _keep_an_owner(repo)
    if not isinstance(data.location_ids, UnsetType) or new_role != user.role:
        wanted = [] if isinstance(data.location_ids, UnsetType) else data.location_ids
        if isinstance(data.location_ids, UnsetType) and new_role == "location_manager":
            wanted = (await repo.location_ids([user.id]))[user.id]
        await _check_locations(session, operator, new_role, wanted)
        await repo.set_locations(user.id, wanted)
    user.role = new_role
    if not isinstance(data.name, UnsetType):
        user.name = data.name
    if not isinstance(data.password, UnsetType):
        user.password_hash = await passwords.hash(data.password)
    await session.flush()
    return user


async def set_user_active(session: AsyncSession, operator: Operator, user_id: uuid.UUID, *, active: bool) -> User:
    user = await get_user(session, operator, user_id, for_update=True)
    _check_can_manage(operator, user.role)
    if user.role == "owner" and user.active and not active:
        await _keep_an_owner(_repo(session, operator))
    user.active = active
    await session.flush()
    return user


async def _keep_an_owner(repo: UserRepository) -> None:
    if await repo.active_owner_count() <= 1:
        raise Conflict("This is the last active owner; make another user an owner first.")
