from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select

from app.billing.models import BillingItem
from app.db.repository import TenantRepository
from app.membership.models import Membership


class MembershipRepository(TenantRepository[Membership]):
    model = Membership

    async def billed_through(self, membership_id: uuid.UUID) -> date | None:
        """The end (exclusive) of the last billed period of a membership, if any."""
        statement = select(func.max(BillingItem.period_end)).where(
            BillingItem.tenant_id == self.tenant_id,
            BillingItem.source_type == "membership",
            BillingItem.source_id == membership_id,
        )
        return (await self.session.execute(statement)).scalar_one()
