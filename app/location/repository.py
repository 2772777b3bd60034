from __future__ import annotations

from app.db.repository import TenantRepository
from app.location.models import Location


class LocationRepository(TenantRepository[Location]):
    model = Location
    location_column = "id"
