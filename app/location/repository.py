from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import Select

from app.db.repository import TenantRepository
from app.location.models import Location


class LocationRepository(TenantRepository[Location]):
    model = Location

    def visible(self, location_ids: Collection[uuid.UUID] | None) -> Select[Location]:
        statement = self.select()
        if location_ids is not None:
            statement = statement.where(Location.id.in_(location_ids))
        return statement
