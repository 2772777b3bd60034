from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement

from app.booking.models import Booking, Resource
from app.db.repository import TenantRepository


class ResourceRepository(TenantRepository[Resource]):
    model = Resource


class BookingRepository(TenantRepository[Booking]):
    model = Booking

    async def unbilled(self, scope: ColumnElement[bool], before: date) -> Sequence[Booking]:
        """Confirmed bookings in ``scope`` that met before ``before`` and are not billed yet, in
        the order they took place (included credits are used up in that order)."""
        statement = (
            self.select()
            .where(scope, Booking.status == "confirmed", Booking.meeting_date < before)
            .order_by(Booking.meeting_date, Booking.starts_at, Booking.id)
            .with_for_update()
        )
        return (await self.session.execute(statement)).scalars().all()
