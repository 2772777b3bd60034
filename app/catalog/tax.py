"""Which tax a line carries: one decision, made in one place.

The order: the customer's own override (e.g. exempt), then the location's policy for the
revenue account, then the revenue account's default. No answer is an error the operator must fix,
never a silent zero."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import LocationTaxPolicy, RevenueAccount, TaxRate, TaxRateComponent
from app.db import driver
from app.kit.errors import InvalidInput
from app.kit.money import TaxComponent, effective_rate, split_tax


@dataclass(frozen=True, slots=True)
class AppliedTax:
    tax_rate_id: uuid.UUID
    name: str
    rate: Decimal  # a fraction: 0.2 is 20 %
    components: tuple[TaxComponent, ...] = ()

    @property
    def split(self) -> bool:
        """Whether a line's tax is shown per component (a rate made of more than one)."""
        return len(self.components) > 1


@dataclass(frozen=True, slots=True)
class TaxPart:
    """One component's part of a line's tax, with the component as it was charged."""

    name: str
    percent: Decimal
    compound: bool
    amount: int


def tax_parts(tax: int, components: Sequence[TaxComponent]) -> list[TaxPart]:
    """A line's tax per component of its rate (``money.split_tax``). A rate of one component has
    no parts: its tax is the line's."""
    if len(components) < 2:
        return []
    amounts = split_tax(tax, components)
    return [TaxPart(c.name, c.percent, c.compound, amount) for c, amount in zip(components, amounts, strict=True)]


class PartLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def percent(self) -> Decimal: ...
    @property
    def compound(self) -> bool: ...
    @property
    def amount(self) -> int: ...


def tax_totals(parts: Iterable[PartLike]) -> list[TaxPart]:
    """A document's tax per component: its lines' parts added up per component (the same name,
    percentage and compounding), in the order first met. Sums only: nothing is rounded here."""
    summed: dict[tuple[str, Decimal, bool], int] = {}
    for part in parts:
        key = (part.name, part.percent, part.compound)
        summed[key] = summed.get(key, 0) + part.amount
    return [TaxPart(name, percent, compound, amount) for (name, percent, compound), amount in summed.items()]


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
                parts = tuple(components[rate_id])
                rates[rate_id] = AppliedTax(rate_id, rate_name, effective_rate(parts), parts)
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
