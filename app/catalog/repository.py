from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Discount, LocationTaxPolicy, Plan, RevenueAccount, TaxRate, TaxRateComponent
from app.db.repository import TenantRepository


class TaxRateRepository(TenantRepository[TaxRate]):
    model = TaxRate

    async def active(self) -> Sequence[TaxRate]:
        statement = self.select().where(TaxRate.status == "active").order_by(TaxRate.name)
        return (await self.session.scalars(statement)).all()

    async def names(self) -> dict[str, str]:
        """Every rate's name by its id (as text), for messages."""
        rows = await self.session.execute(select(TaxRate.id, TaxRate.name).where(TaxRate.tenant_id == self.tenant_id))
        return {str(rate_id): name for rate_id, name in rows.all()}

    async def components(self, rate_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[TaxRateComponent]]:
        """Components of the given rates, in their order."""
        statement = select(TaxRateComponent).where(
            TaxRateComponent.tenant_id == self.tenant_id, TaxRateComponent.tax_rate_id.in_(rate_ids)
        )
        found: dict[uuid.UUID, list[TaxRateComponent]] = defaultdict(list)
        for component in (await self.session.execute(statement.order_by(TaxRateComponent.position))).scalars():
            found[component.tax_rate_id].append(component)
        return found

    async def replace_components(self, rate_id: uuid.UUID, components: Sequence[TaxRateComponent]) -> None:
        await self.session.execute(
            delete(TaxRateComponent).where(
                TaxRateComponent.tenant_id == self.tenant_id, TaxRateComponent.tax_rate_id == rate_id
            )
        )
        self.session.add_all(components)


class RevenueAccountRepository(TenantRepository[RevenueAccount]):
    model = RevenueAccount

    async def active(self) -> Sequence[RevenueAccount]:
        statement = self.select().where(RevenueAccount.active).order_by(RevenueAccount.code)
        return (await self.session.scalars(statement)).all()

    async def all_by_id(self) -> dict[uuid.UUID, RevenueAccount]:
        return {account.id: account for account in await self.session.scalars(self.select())}

    async def builtin(self, kind: str) -> RevenueAccount:
        statement = self.select().where(RevenueAccount.kind == kind)
        return (await self.session.execute(statement)).scalar_one()


class LocationTaxPolicyRepository:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def for_location(self, location_id: uuid.UUID) -> Sequence[LocationTaxPolicy]:
        statement = select(LocationTaxPolicy).where(
            LocationTaxPolicy.tenant_id == self.tenant_id, LocationTaxPolicy.location_id == location_id
        )
        return (await self.session.execute(statement)).scalars().all()

    async def replace(self, location_id: uuid.UUID, entries: dict[uuid.UUID, uuid.UUID]) -> None:
        await self.session.execute(
            delete(LocationTaxPolicy).where(
                LocationTaxPolicy.tenant_id == self.tenant_id, LocationTaxPolicy.location_id == location_id
            )
        )
        self.session.add_all(
            LocationTaxPolicy(
                tenant_id=self.tenant_id, location_id=location_id, revenue_account_id=account, tax_rate_id=rate
            )
            for account, rate in entries.items()
        )


class PlanRepository(TenantRepository[Plan]):
    model = Plan


class DiscountRepository(TenantRepository[Discount]):
    model = Discount
