from __future__ import annotations

from app.booking.models import Booking, Resource
from app.db.repository import TenantRepository


class ResourceRepository(TenantRepository[Resource]):
    model = Resource


class BookingRepository(TenantRepository[Booking]):
    model = Booking
