from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select

from app.billing.models import BillingItem
from app.db.repository import TenantRepository
from app.membership.models import Membership


def billed_through(tenant_id: Any, membership_id: Any) -> Select[date | None]:
    """The end (exclusive) of a membership's last billed period, as ``through`` (None when nothing
    is billed yet): an index look-up of its claims. Values, or columns to correlate with."""
    return select(func.max(BillingItem.period_end).label("through")).where(
        BillingItem.tenant_id == tenant_id,
        BillingItem.source_type == "membership",
        BillingItem.source_id == membership_id,
    )


class MembershipRepository(TenantRepository[Membership]):
    model = Membership

    async def billed_through(self, membership_id: uuid.UUID) -> date | None:
        """The end (exclusive) of the last billed period of a membership, if any."""
        return (await self.session.execute(billed_through(self.tenant_id, membership_id))).scalar_one()
