from __future__ import annotations

import uuid
from decimal import Decimal

import msgspec
from litestar import Controller, get, patch, post, put
from litestar.params import FromPath, JSONBody

from app.auth.guards import requires
from app.catalog import service
from app.catalog.models import Discount, LocationTaxPolicy, Plan, RevenueAccount, TaxRate, TaxRateComponent
from app.catalog.schemas import (
    DiscountCreate,
    DiscountOut,
    DiscountUpdate,
    IncludedTimeOut,
    PlanCreate,
    PlanOut,
    PlanUpdate,
    RevenueAccountCreate,
    RevenueAccountOut,
    RevenueAccountUpdate,
    TaxComponentOut,
    TaxPolicy,
    TaxPolicyEntry,
    TaxRateCreate,
    TaxRateOut,
    TaxRateUpdate,
)
from app.dependencies import Actor, Db
from app.kit.money import TaxComponent, effective_rate, plain_decimal
from app.kit.pagination import Cursor, Limit, Page, page_request, paginate

READ, WRITE = requires("catalog:read"), requires("catalog:write")


def tax_rate_out(rate: TaxRate, components: list[TaxRateComponent]) -> TaxRateOut:
    parts = [TaxComponent(c.name, c.percent, c.compound) for c in components]
    return TaxRateOut(
        id=rate.id,
        name=rate.name,
        status=rate.status,
        components=[TaxComponentOut(c.name, c.percent, c.compound) for c in components],
        effective_percent=Decimal(plain_decimal(effective_rate(parts) * 100)),
        created_at=rate.created_at,
    )


def account_out(account: RevenueAccount) -> RevenueAccountOut:
    return msgspec.convert(account, RevenueAccountOut, from_attributes=True)


def plan_out(plan: Plan) -> PlanOut:
    out = msgspec.convert(plan, PlanOut, from_attributes=True, strict=False)
    out.included_time = [  # kept as minutes; shown as hours
        IncludedTimeOut(
            entry["unit"],
            Decimal(entry["quantity"]) / 60 if entry["unit"] == "hours" else Decimal(entry["quantity"]),
            entry["resource_kind"],
        )
        for entry in plan.included_time
    ]
    return out


def discount_out(discount: Discount) -> DiscountOut:
    return msgspec.convert(discount, DiscountOut, from_attributes=True)


def policy_out(rows: list[LocationTaxPolicy]) -> TaxPolicy:
    return TaxPolicy(
        entries=[TaxPolicyEntry(revenue_account_id=r.revenue_account_id, tax_rate_id=r.tax_rate_id) for r in rows]
    )


class TaxRateController(Controller):
    path = "/tax-rates"
    tags = ["Catalogue"]

    async def _one(self, db: Db, operator: Actor, rate: TaxRate) -> TaxRateOut:
        return tax_rate_out(rate, (await service.tax_components(db, operator, [rate])).get(rate.id, []))

    @get("/", operation_id="listTaxRates", summary="List tax rates", guards=[READ])
    async def list_tax_rates(
        self, db: Db, operator: Actor, cursor: Cursor = None, limit: Limit = None
    ) -> Page[TaxRateOut]:
        """The operator's tax rates, archived ones included, each with its components and the effective
        percentage they make together; oldest first, a page at a time (pass `next_cursor` back as `cursor`)."""
        page = page_request(cursor, limit)
        rates = await service.list_tax_rates(db, operator, page)
        components = await service.tax_components(db, operator, rates)
        return paginate(rates, page, lambda rate: tax_rate_out(rate, components.get(rate.id, [])))

    @get("/{tax_rate_id:uuid}", operation_id="getTaxRate", summary="Get a tax rate", guards=[READ])
    async def get_tax_rate(self, db: Db, operator: Actor, tax_rate_id: FromPath[uuid.UUID]) -> TaxRateOut:
        """One tax rate with its components (e.g. GST and PST), whether each is compound, and the effective
        percentage."""
        return await self._one(db, operator, await service.get_tax_rate(db, operator, tax_rate_id))

    @post("/", operation_id="createTaxRate", summary="Create a tax rate", guards=[WRITE])
    async def create_tax_rate(self, db: Db, operator: Actor, data: JSONBody[TaxRateCreate]) -> TaxRateOut:
        """A rate of one to four components in order: simple ones are charged on the net amount, a compound one
        on the net amount plus the tax of the components before it. Names are unique per operator (409)."""
        return await self._one(db, operator, await service.create_tax_rate(db, operator, data))

    @patch("/{tax_rate_id:uuid}", operation_id="updateTaxRate", summary="Update a tax rate", guards=[WRITE])
    async def update_tax_rate(
        self, db: Db, operator: Actor, tax_rate_id: FromPath[uuid.UUID], data: JSONBody[TaxRateUpdate]
    ) -> TaxRateOut:
        """Rename the rate or replace its components. Lines already written keep the tax they were computed
        with; only lines written from now on use the new components."""
        return await self._one(db, operator, await service.update_tax_rate(db, operator, tax_rate_id, data))

    @post(
        "/{tax_rate_id:uuid}/archive",
        operation_id="archiveTaxRate",
        summary="Archive a tax rate",
        status_code=200,
        guards=[WRITE],
    )
    async def archive_tax_rate(self, db: Db, operator: Actor, tax_rate_id: FromPath[uuid.UUID]) -> TaxRateOut:
        """An archived rate can no longer be chosen for revenue accounts, companies or location tax policies
        (409). Nothing already set to it is changed."""
        return await self._one(db, operator, await service.set_tax_rate_status(db, operator, tax_rate_id, "archived"))

    @post(
        "/{tax_rate_id:uuid}/restore",
        operation_id="restoreTaxRate",
        summary="Restore a tax rate",
        status_code=200,
        guards=[WRITE],
    )
    async def restore_tax_rate(self, db: Db, operator: Actor, tax_rate_id: FromPath[uuid.UUID]) -> TaxRateOut:
        """Make an archived tax rate active again, so that it can be chosen once more."""
        return await self._one(db, operator, await service.set_tax_rate_status(db, operator, tax_rate_id, "active"))


class RevenueAccountController(Controller):
    path = "/revenue-accounts"
    tags = ["Catalogue"]

    @get("/", operation_id="listRevenueAccounts", summary="List revenue accounts", guards=[READ])
    async def list_accounts(
        self, db: Db, operator: Actor, cursor: Cursor = None, limit: Limit = None
    ) -> Page[RevenueAccountOut]:
        """The accounts income is booked to: the built-in ones every operator has (membership fees, booking
        fees, one-off fees, deposits) and custom ones; oldest first, a page at a time (pass `next_cursor` back
        as `cursor`)."""
        page = page_request(cursor, limit)
        return paginate(await service.list_accounts(db, operator, page), page, account_out)

    @get("/{revenue_account_id:uuid}", operation_id="getRevenueAccount", summary="Get a revenue account", guards=[READ])
    async def get_account(self, db: Db, operator: Actor, revenue_account_id: FromPath[uuid.UUID]) -> RevenueAccountOut:
        """One revenue account: its code, whether it is built in or a liability (deposits), its own tax rate
        and whether it is active."""
        return account_out(await service.get_account(db, operator, revenue_account_id))

    @post("/", operation_id="createRevenueAccount", summary="Create a revenue account", guards=[WRITE])
    async def create_account(self, db: Db, operator: Actor, data: JSONBody[RevenueAccountCreate]) -> RevenueAccountOut:
        """A custom account for plans, resources and fees to book income to. `code` is unique per operator
        (409); `tax_rate_id`, if given, must be an active rate."""
        return account_out(await service.create_account(db, operator, data))

    @patch(
        "/{revenue_account_id:uuid}",
        operation_id="updateRevenueAccount",
        summary="Update a revenue account",
        guards=[WRITE],
    )
    async def update_account(
        self, db: Db, operator: Actor, revenue_account_id: FromPath[uuid.UUID], data: JSONBody[RevenueAccountUpdate]
    ) -> RevenueAccountOut:
        """Rename, re-code or change the tax rate of an account, a built-in one included; a new rate must be
        active."""
        return account_out(await service.update_account(db, operator, revenue_account_id, data))

    @post(
        "/{revenue_account_id:uuid}/deactivate",
        operation_id="deactivateRevenueAccount",
        summary="Deactivate a revenue account",
        status_code=200,
        guards=[WRITE],
    )
    async def deactivate_account(
        self, db: Db, operator: Actor, revenue_account_id: FromPath[uuid.UUID]
    ) -> RevenueAccountOut:
        """A deactivated account can no longer be chosen for plans, resources or fees. Built-in accounts cannot
        be deactivated (409): rename or re-code them instead."""
        return account_out(await service.set_account_active(db, operator, revenue_account_id, active=False))


class TaxPolicyController(Controller):
    path = "/locations/{location_id:uuid}/tax-policy"
    tags = ["Catalogue"]

    @get("/", operation_id="getLocationTaxPolicy", summary="Get a location's tax policy", guards=[READ])
    async def get_policy(self, db: Db, operator: Actor, location_id: FromPath[uuid.UUID]) -> TaxPolicy:
        """The tax rate the location charges for each revenue account it overrides; an account not listed is
        taxed at its own rate."""
        return policy_out(list(await service.get_tax_policy(db, operator, location_id)))

    @put("/", operation_id="replaceLocationTaxPolicy", summary="Replace a location's tax policy", guards=[WRITE])
    async def replace_policy(
        self, db: Db, operator: Actor, location_id: FromPath[uuid.UUID], data: JSONBody[TaxPolicy]
    ) -> TaxPolicy:
        """Replace the whole policy at once; an empty `entries` clears it. Each revenue account may be listed
        once (422), and each rate must be active (409)."""
        return policy_out(list(await service.replace_tax_policy(db, operator, location_id, data.entries)))


class PlanController(Controller):
    path = "/plans"
    tags = ["Catalogue"]

    @get("/", operation_id="listPlans", summary="List plans", guards=[READ])
    async def list_plans(self, db: Db, operator: Actor, cursor: Cursor = None, limit: Limit = None) -> Page[PlanOut]:
        """The membership plans on offer, deactivated ones included, oldest first, a page at a time (pass
        `next_cursor` back as `cursor`). Prices are integer minor units of the plan's currency."""
        page = page_request(cursor, limit)
        return paginate(await service.list_plans(db, operator, page), page, plan_out)

    @get("/{plan_id:uuid}", operation_id="getPlan", summary="Get a plan", guards=[READ])
    async def get_plan(self, db: Db, operator: Actor, plan_id: FromPath[uuid.UUID]) -> PlanOut:
        """One plan: its price per interval, the credit and booking time it includes each period (time in hours
        or days), its deposit, whether it is prorated, and its revenue account."""
        return plan_out(await service.get_plan(db, operator, plan_id))

    @post("/", operation_id="createPlan", summary="Create a plan", guards=[WRITE])
    async def create_plan(self, db: Db, operator: Actor, data: JSONBody[PlanCreate]) -> PlanOut:
        """A plan priced in minor units of a currency some location bills in (409 otherwise). Without
        `revenue_account_id` it books to the built-in membership fees account; `deposit` is billed with a
        membership's first period."""
        return plan_out(await service.create_plan(db, operator, data))

    @patch("/{plan_id:uuid}", operation_id="updatePlan", summary="Update a plan", guards=[WRITE])
    async def update_plan(
        self, db: Db, operator: Actor, plan_id: FromPath[uuid.UUID], data: JSONBody[PlanUpdate]
    ) -> PlanOut:
        """Change only the fields sent; the currency and interval cannot change. A new price applies to periods
        billed from now on: what was billed stays as it was."""
        return plan_out(await service.update_plan(db, operator, plan_id, data))

    @post(
        "/{plan_id:uuid}/deactivate",
        operation_id="deactivatePlan",
        summary="Deactivate a plan",
        status_code=200,
        guards=[WRITE],
    )
    async def deactivate_plan(self, db: Db, operator: Actor, plan_id: FromPath[uuid.UUID]) -> PlanOut:
        """A deactivated plan takes no new memberships (409); memberships already on it carry on and are billed
        as before."""
        return plan_out(await service.set_plan_active(db, operator, plan_id, active=False))


class DiscountController(Controller):
    path = "/discounts"
    tags = ["Catalogue"]

    @get("/", operation_id="listDiscounts", summary="List discounts", guards=[READ])
    async def list_discounts(
        self, db: Db, operator: Actor, cursor: Cursor = None, limit: Limit = None
    ) -> Page[DiscountOut]:
        """Percentage and fixed-amount discounts, deactivated ones included, oldest first, a page at a time
        (pass `next_cursor` back as `cursor`)."""
        page = page_request(cursor, limit)
        return paginate(await service.list_discounts(db, operator, page), page, discount_out)

    @get("/{discount_id:uuid}", operation_id="getDiscount", summary="Get a discount", guards=[READ])
    async def get_discount(self, db: Db, operator: Actor, discount_id: FromPath[uuid.UUID]) -> DiscountOut:
        """One discount: a `percent` off, or a fixed `amount` in minor units of its `currency`."""
        return discount_out(await service.get_discount(db, operator, discount_id))

    @post("/", operation_id="createDiscount", summary="Create a discount", guards=[WRITE])
    async def create_discount(self, db: Db, operator: Actor, data: JSONBody[DiscountCreate]) -> DiscountOut:
        """A `percent` discount takes `percent` only; a `fixed` one takes `amount` (minor units) and a
        `currency` some location bills in. Discounts are given on memberships and bookings."""
        return discount_out(await service.create_discount(db, operator, data))

    @patch("/{discount_id:uuid}", operation_id="updateDiscount", summary="Rename a discount", guards=[WRITE])
    async def update_discount(
        self, db: Db, operator: Actor, discount_id: FromPath[uuid.UUID], data: JSONBody[DiscountUpdate]
    ) -> DiscountOut:
        """Only the name can change: a discount's kind and value are fixed once made (make a new one instead)."""
        return discount_out(await service.update_discount(db, operator, discount_id, data))

    @post(
        "/{discount_id:uuid}/deactivate",
        operation_id="deactivateDiscount",
        summary="Deactivate a discount",
        status_code=200,
        guards=[WRITE],
    )
    async def deactivate_discount(self, db: Db, operator: Actor, discount_id: FromPath[uuid.UUID]) -> DiscountOut:
        """A deactivated discount can no longer be given to memberships or bookings (409)."""
        return discount_out(await service.set_discount_active(db, operator, discount_id, active=False))
