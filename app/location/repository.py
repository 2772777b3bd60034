from __future__ import annotations

from sqlalchemy import select

from app.db.repository import TenantRepository
from app.location.models import Location


class LocationRepository(TenantRepository[Location]):
    model = Location
    location_column = "id"

    async def currencies(self) -> set[str]:
        """The currencies the tenant's locations bill in."""
        rows = await self.session.execute(
            select(Location.currency).where(Location.tenant_id == self.tenant_id).distinct()
        )
        return set(rows.scalars())
