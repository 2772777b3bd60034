"""Which tax a line carries: one decision, made in one place.

The order: the customer's own override (e.g. exempt), then the location's policy for the
revenue account, then the revenue account's default. No answer is an error the operator must fix,
never a silent zero."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.repository import LocationTaxPolicyRepository, RevenueAccountRepository, TaxRateRepository
from app.kit.errors import InvalidInput
from app.kit.money import TaxComponent, effective_rate


@dataclass(frozen=True, slots=True)
class AppliedTax:
    tax_rate_id: uuid.UUID
    name: str
    rate: Decimal  # a fraction: 0.2 is 20 %


class MissingTaxRate(InvalidInput):
    code = "missing_tax_rate"


class TaxBook:
    """Every tax rule of one tenant, loaded once for a billing run."""

    def __init__(
        self,
        rates: dict[uuid.UUID, AppliedTax],
        archived: set[uuid.UUID],
        account_defaults: dict[uuid.UUID, uuid.UUID | None],
        account_names: dict[uuid.UUID, str],
        policies: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID],
    ) -> None:
        self.rates = rates
        self.archived = archived
        self.account_defaults = account_defaults
        self.account_names = account_names
        self.policies = policies

    @classmethod
    async def load(cls, session: AsyncSession, tenant_id: uuid.UUID) -> TaxBook:
        rate_repo = TaxRateRepository(session, tenant_id)
        components = await rate_repo.components()
        rates, archived = {}, set()
        for rate in (await session.execute(rate_repo.select())).scalars():
            parts = [TaxComponent(c.name, c.percent, c.compound) for c in components.get(rate.id, [])]
            rates[rate.id] = AppliedTax(rate.id, rate.name, effective_rate(parts))
            if rate.status != "active":
                archived.add(rate.id)
        accounts = (await session.execute(RevenueAccountRepository(session, tenant_id).select())).scalars().all()
        policies = await LocationTaxPolicyRepository(session, tenant_id).for_location()
        return cls(
            rates,
            archived,
            {account.id: account.tax_rate_id for account in accounts},
            {account.id: account.name for account in accounts},
            {(policy.location_id, policy.revenue_account_id): policy.tax_rate_id for policy in policies},
        )

    def for_line(
        self, revenue_account_id: uuid.UUID, location_id: uuid.UUID, customer_override: uuid.UUID | None
    ) -> AppliedTax:
        rate_id = (
            customer_override
            or self.policies.get((location_id, revenue_account_id))
            or self.account_defaults.get(revenue_account_id)
        )
        account = self.account_names.get(revenue_account_id, str(revenue_account_id))
        if rate_id is None:
            raise MissingTaxRate(
                f"No tax rate for '{account}' at this location: set one on the revenue account or in the "
                "location's tax policy."
            )
        if rate_id in self.archived:
            raise MissingTaxRate(f"The tax rate '{self.rates[rate_id].name}' used for '{account}' is archived.")
        return self.rates[rate_id]
