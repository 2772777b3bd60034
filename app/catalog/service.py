"""The catalogue: tax rates, revenue accounts, location tax policies, plans and discounts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

import msgspec
from msgspec import UNSET, UnsetType
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.capture import note
from app.auth.principal import Operator
from app.catalog.models import Discount, LocationTaxPolicy, Plan, RevenueAccount, TaxRate, TaxRateComponent
from app.catalog.repository import (
    DiscountRepository,
    LocationTaxPolicyRepository,
    PlanRepository,
    RevenueAccountRepository,
    TaxRateRepository,
)
from app.catalog.schemas import (
    DiscountCreate,
    DiscountUpdate,
    PlanCreate,
    PlanUpdate,
    RevenueAccountCreate,
    RevenueAccountUpdate,
    TaxComponentIn,
    TaxPolicyEntry,
    TaxRateCreate,
    TaxRateUpdate,
)
from app.db.integrity import flush_unique
from app.kit.errors import Conflict, InvalidInput, NotFound
from app.kit.pagination import PageRequest
from app.kit.schema import apply_patch
from app.location.repository import LocationRepository
from app.location.service import get_location

_UNIQUE = {
    "uq_tax_rates_tenant_id_name": "Another tax rate has this name.",
    "uq_revenue_accounts_tenant_id_code": "Another revenue account uses this code.",
}


# --- tax rates --------------------------------------------------------------------------------


async def list_tax_rates(session: AsyncSession, operator: Operator, page: PageRequest) -> Sequence[TaxRate]:
    return await TaxRateRepository(session, operator.tenant_id).page(page)


async def get_tax_rate(
    session: AsyncSession, operator: Operator, rate_id: uuid.UUID, *, for_update: bool = False
) -> TaxRate:
    rate = await TaxRateRepository(session, operator.tenant_id).get(rate_id, for_update=for_update)
    if rate is None:
        raise NotFound("No such tax rate.")
    return rate


async def tax_components(
    session: AsyncSession, operator: Operator, rates: Sequence[TaxRate]
) -> dict[uuid.UUID, list[TaxRateComponent]]:
    return await TaxRateRepository(session, operator.tenant_id).components([rate.id for rate in rates])


def _components(tenant_id: uuid.UUID, rate_id: uuid.UUID, parts: Sequence[TaxComponentIn]) -> list[TaxRateComponent]:
    return [
        TaxRateComponent(
            tenant_id=tenant_id,
            tax_rate_id=rate_id,
            position=position,
            name=part.name,
            percent=part.rate,
            compound=part.compound,
        )
        for position, part in enumerate(parts)
    ]


async def create_tax_rate(session: AsyncSession, operator: Operator, data: TaxRateCreate) -> TaxRate:
    repo = TaxRateRepository(session, operator.tenant_id)
    rate = repo.add(TaxRate(name=data.name, status="active"))
    await flush_unique(session, _UNIQUE)
    session.add_all(_components(operator.tenant_id, rate.id, data.components))
    await session.flush()
    return rate


async def update_tax_rate(
    session: AsyncSession, operator: Operator, rate_id: uuid.UUID, data: TaxRateUpdate
) -> TaxRate:
    """Lines already written keep the tax they were computed with; new lines use the new rate."""
    rate = await get_tax_rate(session, operator, rate_id, for_update=True)
    if not isinstance(data.name, UnsetType):
        rate.name = data.name
    if not isinstance(data.components, UnsetType):
        repo = TaxRateRepository(session, operator.tenant_id)
        await repo.replace_components(rate.id, _components(operator.tenant_id, rate.id, data.components))
        components = [msgspec.structs.asdict(component) for component in data.components]
        await note(session, operator.tenant_id, "tax_rate", rate.id, {"components": components})
    await flush_unique(session, _UNIQUE)
    return rate


async def set_tax_rate_status(session: AsyncSession, operator: Operator, rate_id: uuid.UUID, status: str) -> TaxRate:
    rate = await get_tax_rate(session, operator, rate_id, for_update=True)
    rate.status = status
    await session.flush()
    return rate


async def _active_tax_rate(session: AsyncSession, operator: Operator, rate_id: uuid.UUID | None) -> None:
    if rate_id is None:
        return
    rate = await TaxRateRepository(session, operator.tenant_id).get(rate_id)
    if rate is None:
        raise NotFound(f"Tax rate {rate_id} does not exist.")
    if rate.status != "active":
        raise Conflict(f"The tax rate '{rate.name}' is archived.")


# --- revenue accounts -------------------------------------------------------------------------


async def list_accounts(session: AsyncSession, operator: Operator, page: PageRequest) -> Sequence[RevenueAccount]:
    return await RevenueAccountRepository(session, operator.tenant_id).page(page)


async def get_account(
    session: AsyncSession, operator: Operator, account_id: uuid.UUID, *, for_update: bool = False
) -> RevenueAccount:
    account = await RevenueAccountRepository(session, operator.tenant_id).get(account_id, for_update=for_update)
    if account is None:
        raise NotFound("No such revenue account.")
    return account


async def create_account(session: AsyncSession, operator: Operator, data: RevenueAccountCreate) -> RevenueAccount:
    await _active_tax_rate(session, operator, data.tax_rate_id)
    account = RevenueAccountRepository(session, operator.tenant_id).add(
        RevenueAccount(
            kind="custom",
            name=data.name,
            code=data.code,
            liability=data.liability,
            tax_rate_id=data.tax_rate_id,
            active=True,
        )
    )
    await flush_unique(session, _UNIQUE)
    return account


async def update_account(
    session: AsyncSession, operator: Operator, account_id: uuid.UUID, data: RevenueAccountUpdate
) -> RevenueAccount:
    account = await get_account(session, operator, account_id, for_update=True)
    if not isinstance(data.tax_rate_id, UnsetType):
        await _active_tax_rate(session, operator, data.tax_rate_id)
    apply_patch(account, data)
    await flush_unique(session, _UNIQUE)
    return account


async def set_account_active(
    session: AsyncSession, operator: Operator, account_id: uuid.UUID, *, active: bool
) -> RevenueAccount:
    account = await get_account(session, operator, account_id, for_update=True)
    if account.kind != "custom" and not active:
        raise Conflict("Built-in revenue accounts cannot be deactivated; rename or re-code them instead.")
    account.active = active
    await session.flush()
    return account


# --- location tax policy ----------------------------------------------------------------------


async def get_tax_policy(
    session: AsyncSession, operator: Operator, location_id: uuid.UUID
) -> Sequence[LocationTaxPolicy]:
    await get_location(session, operator, location_id)
    return await LocationTaxPolicyRepository(session, operator.tenant_id).for_location(location_id)


async def replace_tax_policy(
    session: AsyncSession, operator: Operator, location_id: uuid.UUID, entries: Sequence[TaxPolicyEntry]
) -> Sequence[LocationTaxPolicy]:
    await get_location(session, operator, location_id, for_update=True)
    mapping: dict[uuid.UUID, uuid.UUID] = {}
    for entry in entries:
        if entry.revenue_account_id in mapping:
            raise InvalidInput(f"Revenue account {entry.revenue_account_id} is listed twice.")
        await get_account(session, operator, entry.revenue_account_id)
        await _active_tax_rate(session, operator, entry.tax_rate_id)
        mapping[entry.revenue_account_id] = entry.tax_rate_id
    repo = LocationTaxPolicyRepository(session, operator.tenant_id)
    await repo.replace(location_id, mapping)
    await note(session, operator.tenant_id, "location_tax_policy", location_id, {"entries": mapping})
    await session.flush()
    return await repo.for_location(location_id)


# --- plans ------------------------------------------------------------------------------------


async def list_plans(session: AsyncSession, operator: Operator, page: PageRequest) -> Sequence[Plan]:
    return await PlanRepository(session, operator.tenant_id).page(page)


async def get_plan(session: AsyncSession, operator: Operator, plan_id: uuid.UUID, *, for_update: bool = False) -> Plan:
    plan = await PlanRepository(session, operator.tenant_id).get(plan_id, for_update=for_update)
    if plan is None:
        raise NotFound("No such plan.")
    return plan


async def revenue_account(
    session: AsyncSession, operator: Operator, account_id: uuid.UUID | None, default_kind: str
) -> uuid.UUID:
    """The revenue account something is booked to: the one given, if usable, or the built-in one."""
    accounts = RevenueAccountRepository(session, operator.tenant_id)
    if account_id is None:
        return (await accounts.builtin(default_kind)).id
    account = await accounts.get(account_id)
    if account is None:
        raise NotFound(f"Revenue account {account_id} does not exist.")
    if not account.active:
        raise Conflict(f"Revenue account '{account.name}' is deactivated.")
    return account.id


async def usable_discount(
    session: AsyncSession, operator: Operator, discount_id: uuid.UUID | None, currency: str
) -> Discount | None:
    """The discount to give, if any: it must be active, and a fixed one in ``currency``."""
    if discount_id is None:
        return None
    discount = await DiscountRepository(session, operator.tenant_id).get(discount_id)
    if discount is None:
        raise NotFound(f"Discount {discount_id} does not exist.")
    if not discount.active:
        raise Conflict(f"Discount '{discount.name}' is deactivated.")
    if discount.kind == "fixed" and discount.currency != currency:
        raise Conflict(f"The discount is in {discount.currency} but this is billed in {currency}.")
    return discount


async def _billed_somewhere(session: AsyncSession, operator: Operator, currency: str) -> None:
    """A price in a currency none of the tenant's locations bills could never go on an invoice."""
    billed = await LocationRepository(session, operator.tenant_id).currencies()
    if currency not in billed:
        message = f"no location bills in {currency} (they bill in {', '.join(sorted(billed)) or 'nothing yet'})."
        raise Conflict(f"currency: {message}", errors=[{"key": "currency", "message": message}])


async def create_plan(session: AsyncSession, operator: Operator, data: PlanCreate) -> Plan:
    await _billed_somewhere(session, operator, data.currency)
    account_id = await revenue_account(session, operator, data.revenue_account_id, "membership_fees")
    plan = PlanRepository(session, operator.tenant_id).add(
        Plan(
            name=data.name,
            currency=data.currency,
            price=data.price,
            interval_months=data.interval_months,
            revenue_account_id=account_id,
            prorate=data.prorate,
            included_credit=data.included_credit,
            included_time=[entry.stored for entry in data.included_time],
            deposit=data.deposit,
            active=True,
        )
    )
    await session.flush()
    return plan


async def update_plan(session: AsyncSession, operator: Operator, plan_id: uuid.UUID, data: PlanUpdate) -> Plan:
    """A new price applies to periods billed from now on; what was billed stays as it was."""
    plan = await get_plan(session, operator, plan_id, for_update=True)
    if not isinstance(data.revenue_account_id, UnsetType):
        await revenue_account(session, operator, data.revenue_account_id, "membership_fees")
    included_time = data.included_time
    apply_patch(plan, msgspec.structs.replace(data, included_time=UNSET))
    if not isinstance(included_time, UnsetType):
        plan.included_time = [entry.stored for entry in included_time]
    await session.flush()
    return plan


async def set_plan_active(session: AsyncSession, operator: Operator, plan_id: uuid.UUID, *, active: bool) -> Plan:
    plan = await get_plan(session, operator, plan_id, for_update=True)
    plan.active = active
    await session.flush()
    return plan


# --- discounts --------------------------------------------------------------------------------


async def list_discounts(session: AsyncSession, operator: Operator, page: PageRequest) -> Sequence[Discount]:
    return await DiscountRepository(session, operator.tenant_id).page(page)


async def get_discount(
    session: AsyncSession, operator: Operator, discount_id: uuid.UUID, *, for_update: bool = False
) -> Discount:
    discount = await DiscountRepository(session, operator.tenant_id).get(discount_id, for_update=for_update)
    if discount is None:
        raise NotFound("No such discount.")
    return discount


async def create_discount(session: AsyncSession, operator: Operator, data: DiscountCreate) -> Discount:
    if data.currency is not None:
        await _billed_somewhere(session, operator, data.currency)
    discount = DiscountRepository(session, operator.tenant_id).add(
        Discount(
            name=data.name,
            kind=data.kind,
            percent=None if data.percent is None else Decimal(data.percent),
            amount=data.amount,
            currency=data.currency,
            active=True,
        )
    )
    await session.flush()
    return discount


async def update_discount(
    session: AsyncSession, operator: Operator, discount_id: uuid.UUID, data: DiscountUpdate
) -> Discount:
    discount = await get_discount(session, operator, discount_id, for_update=True)
    apply_patch(discount, data)
    await session.flush()
    return discount


async def set_discount_active(
    session: AsyncSession, operator: Operator, discount_id: uuid.UUID, *, active: bool
) -> Discount:
    discount = await get_discount(session, operator, discount_id, for_update=True)
    discount.active = active
    await session.flush()
    return discount
