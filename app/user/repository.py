from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select

from app.db.repository import TenantRepository
from app.tenant.models import Tenant
from app.user.models import User, UserLocation


class UserRepository(TenantRepository[User]):
    model = User

    async def by_email(self, email: str) -> User | None:
        return (await self.session.execute(self.select().where(User.email == email))).scalar_one_or_none()

    async def signed_in(self, user_id: uuid.UUID) -> User | None:
        """The user, if they and their organisation are both active (a browser session's check)."""
        statement = (
            self.select()
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(User.id == user_id, User.active, Tenant.status == "active")
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def administrators(self) -> Sequence[User]:
        """The active owners and admins: who hears about problems that need the operator."""
        statement = self.select().where(User.role.in_(("owner", "admin")), User.active).order_by(User.email)
        return (await self.session.scalars(statement)).all()

    async def active_owner_count(self) -> int:
        """Counted under row locks, so two concurrent demotions cannot both see a second owner."""
        statement = (
            select(User.id).where(User.tenant_id == self.tenant_id, User.role == "owner", User.active).with_for_update()
        )
        return len((await self.session.execute(statement)).all())

    async def location_ids(self, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
        ids = list(user_ids)
        result: dict[uuid.UUID, list[uuid.UUID]] = {user_id: [] for user_id in ids}
        if not ids:
            return result
        rows = await self.session.execute(
            select(UserLocation.user_id, UserLocation.location_id)
            .where(UserLocation.tenant_id == self.tenant_id, UserLocation.user_id.in_(ids))
            .order_by(UserLocation.location_id)
        )
        for user_id, location_id in rows:
            result[user_id].append(location_id)
        return result

    async def set_locations(self, user_id: uuid.UUID, location_ids: Sequence[uuid.UUID]) -> None:
        await self.session.execute(
            delete(UserLocation).where(
                UserLocation.tenant_id == self.tenant_id,
                UserLocation.user_id == user_id,
            )
        )
        self.session.add_all(
            UserLocation(tenant_id=self.tenant_id, user_id=user_id, location_id=location_id)
            for location_id in dict.fromkeys(location_ids)
        )
