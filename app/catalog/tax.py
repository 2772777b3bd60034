"""Which tax a line carries: one decision, made in one place.

The order: the customer's own override (e.g. exempt), then the location's policy for the
revenue account, then the revenue account's default. No answer is an error the operator must fix,
never a silent zero."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import LocationTaxPolicy, RevenueAccount, TaxRate, TaxRateComponent
from app.db import driver
from app.kit.errors import InvalidInput
from app.kit.money import TaxComponent, effective_rate


@dataclass(frozen=True, slots=True)
class AppliedTax:
    tax_rate_id: uuid.UUID
    name: str
    rate: Decimal  # a fraction: 0.2 is 20 %


class MissingTaxRate(InvalidInput):
    code = "missing_tax_rate"


# A tenant's tax rules: three queries, built once and sent together straight to the driver (a book
# is loaded by every billing run).
_TENANT = bindparam("tenant_id", type_=Uuid())
_RATES = (
    select(
        TaxRate.id,
        TaxRate.name,
        TaxRate.status,
        TaxRateComponent.name,
        TaxRateComponent.percent,
        TaxRateComponent.compound,
    )
    .outerjoin(
        TaxRateComponent,
        (TaxRateComponent.tenant_id == TaxRate.tenant_id) & (TaxRateComponent.tax_rate_id == TaxRate.id),
    )
    .where(TaxRate.tenant_id == _TENANT)
    .order_by(TaxRate.id, TaxRateComponent.position)
)
_ACCOUNTS = select(RevenueAccount.id, RevenueAccount.name, RevenueAccount.tax_rate_id).where(
    RevenueAccount.tenant_id == _TENANT
)
_POLICIES = select(
    LocationTaxPolicy.location_id, LocationTaxPolicy.revenue_account_id, LocationTaxPolicy.tax_rate_id
).where(LocationTaxPolicy.tenant_id == _TENANT)
_BOOK = driver.row_sets(_RATES, _ACCOUNTS, _POLICIES)


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
        params = {"tenant_id": tenant_id}
        components: dict[uuid.UUID, list[TaxComponent]] = defaultdict(list)
        rates, archived = {}, set()
        ((rows, accounts, policies),) = await driver.fetch(session, _BOOK, params)
        for rate_id, _, _, name, percent, compound in rows:
            if name is not None:
                components[rate_id].append(TaxComponent(name, percent, compound))
        for rate_id, rate_name, status, *_ in rows:
            if rate_id not in rates:
                rates[rate_id] = AppliedTax(rate_id, rate_name, effective_rate(components[rate_id]))
                if status != "active":
                    archived.add(rate_id)
        return cls(
            rates,
            archived,
            {account_id: rate_id for account_id, _, rate_id in accounts},
            {account_id: name for account_id, name, _ in accounts},
            {(location_id, account_id): rate_id for location_id, account_id, rate_id in policies},
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
