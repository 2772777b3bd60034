from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date

from sqlalchemy import Select, func, select

from app.billing.models import BillingItem
from app.db.repository import TenantRepository
from app.membership.models import Membership


class MembershipRepository(TenantRepository[Membership]):
    model = Membership

    def visible(
        self,
        location_ids: Collection[uuid.UUID] | None,
        *,
        company_id: uuid.UUID | None = None,
        location_id: uuid.UUID | None = None,
    ) -> Select[Membership]:
        statement = self.select()
        if location_ids is not None:
            statement = statement.where(Membership.location_id.in_(location_ids))
        if company_id is not None:
            statement = statement.where(Membership.company_id == company_id)
        if location_id is not None:
            statement = statement.where(Membership.location_id == location_id)
        return statement

    async def billed_through(self, membership_id: uuid.UUID) -> date | None:
        """The end (exclusive) of the last billed period of a membership, if any."""
        statement = select(func.max(BillingItem.period_end)).where(
            BillingItem.tenant_id == self.tenant_id,
            BillingItem.source_type == "membership",
            BillingItem.source_id == membership_id,
        )
        return (await self.session.execute(statement)).scalar_one()
