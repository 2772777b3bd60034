"""One-off fees: recorded against a company at a location, billed by the next run, or waived."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Operator
from app.catalog.service import revenue_account
from app.company.service import billable_company
from app.fee.models import Fee
from app.fee.repository import FeeRepository
from app.fee.schemas import FeeCreate
from app.kit.errors import Conflict, NotFound
from app.kit.pagination import PageRequest
from app.location.service import usable_location


async def record_fee(session: AsyncSession, operator: Operator, data: FeeCreate) -> Fee:
    location = await usable_location(session, operator, data.location_id, for_share=True)
    company = await billable_company(session, operator, data.company_id, location)
    account_id = await revenue_account(session, operator, data.revenue_account_id, "one_off_fees")
    fee = FeeRepository(session, operator.tenant_id).add(
        Fee(
            company_id=company.id,
            location_id=location.id,
            description=data.description,
            quantity=Decimal(data.quantity),
            unit_amount=data.unit_amount,
            revenue_account_id=account_id,
            charge_date=data.charge_date,
            status="pending",
        )
    )
    await session.flush()
    return fee


async def list_fees(session: AsyncSession, operator: Operator, page: PageRequest) -> Sequence[Fee]:
    repo = FeeRepository(session, operator.tenant_id)
    return await repo.page(page, repo.visible(operator.location_ids))


async def get_fee(session: AsyncSession, operator: Operator, fee_id: uuid.UUID, *, for_update: bool = False) -> Fee:
    fee = await FeeRepository(session, operator.tenant_id).visible_one(
        fee_id, operator.location_ids, for_update=for_update
    )
    if fee is None:
        raise NotFound("No such fee.")
    return fee


async def waive_fee(session: AsyncSession, operator: Operator, fee_id: uuid.UUID, reason: str | None) -> Fee:
    fee = await get_fee(session, operator, fee_id, for_update=True)
    if fee.status != "pending":
        raise Conflict(f"Only a pending fee can be waived; this one is {fee.status} (credit its invoice instead).")
    fee.status = "waived"
    fee.waived_reason = reason
    await session.flush()
    return fee
