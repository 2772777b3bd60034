from __future__ import annotations

import uuid

from sqlalchemy import select

from app.company.models import Company
from app.db.repository import TenantRepository


class CompanyRepository(TenantRepository[Company]):
    model = Company
    location_column = "home_location_id"  # a company belongs to its home location

    async def billed_otherwise_at(self, location_id: uuid.UUID, currency: str) -> list[str]:
        """Names of companies calling the location home that are billed in another currency."""
        rows = await self.session.execute(
            select(Company.legal_name)
            .where(
                Company.tenant_id == self.tenant_id,
                Company.home_location_id == location_id,
                Company.currency != currency,
            )
            .order_by(Company.legal_name)
            .limit(3)
        )
        return list(rows.scalars())
