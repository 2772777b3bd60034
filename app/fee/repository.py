from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement

from app.db.repository import TenantRepository
from app.fee.models import Fee


class FeeRepository(TenantRepository[Fee]):
    model = Fee

    async def due(self, scope: ColumnElement[bool], before: date) -> Sequence[Fee]:
        """Pending fees in ``scope`` dated before ``before`` (billed in arrears)."""
        statement = (
            self.select()
            .where(scope, Fee.status == "pending", Fee.charge_date < before)
            .order_by(Fee.charge_date, Fee.id)
            .with_for_update()
        )
        return (await self.session.execute(statement)).scalars().all()
