from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from app.db.repository import TenantRepository
from app.fee.models import Fee


class FeeRepository(TenantRepository[Fee]):
    model = Fee

    async def due_at(self, location_id: uuid.UUID, before: date) -> Sequence[Fee]:
        """Pending fees of a location dated before ``before`` (billed in arrears)."""
        statement = (
            self.select()
            .where(Fee.location_id == location_id, Fee.status == "pending", Fee.charge_date < before)
            .order_by(Fee.charge_date, Fee.id)
            .with_for_update()
        )
        return (await self.session.execute(statement)).scalars().all()
