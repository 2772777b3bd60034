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

    @get("/", operation_id="listTaxRates", guards=[READ])
    async def list_tax_rates(
        self, db: Db, operator: Actor, cursor: Cursor = None, limit: Limit = None
    ) -> Page[TaxRateOut]:
        page = page_request(cursor, limit)
        rates = await service.list_tax_rates(db, operator, page)
        components = await service.tax_components(db, operator, rates)
        return paginate(rates, page, lambda rate: tax_rate_out(rate, components.get(rate.id, [])))

    @get("/{tax_rate_id:uuid}", operation_id="getTaxRate", guards=[READ])
    async def get_tax_rate(self, db: Db, operator: Actor, tax_rate_id: FromPath[uuid.UUID]) -> TaxRateOut:
        return await self._one(db, operator, await service.get_tax_rate(db, operator, tax_rate_id))

    @post("/", operation_id="createTaxRate", guards=[WRITE])
    async def create_tax_rate(self, db: Db, operator: Actor, data: JSONBody[TaxRateCreate]) -> TaxRateOut:
        return await self._one(db, operator, await service.create_tax_rate(db, operator, data))

    @patch("/{tax_rate_id:uuid}", operation_id="updateTaxRate", guards=[WRITE])
    async def update_tax_rate(
        self, db: Db, operator: Actor, tax_rate_id: FromPath[uuid.UUID], data: JSONBody[TaxRateUpdate]
    ) -> TaxRateOut:
        return await self._one(db, operator, await service.update_tax_rate(db, operator, tax_rate_id, data))

    @post("/{tax_rate_id:uuid}/archive", operation_id="archiveTaxRate", status_code=200, guards=[WRITE])
    async def archive_tax_rate(self, db: Db, operator: Actor, tax_rate_id: FromPath[uuid.UUID]) -> TaxRateOut:
        return await self._one(db, operator, await service.set_tax_rate_status(db, operator, tax_rate_id, "archived"))

    @post("/{tax_rate_id:uuid}/restore", operation_id="restoreTaxRate", status_code=200, guards=[WRITE])
    async def restore_tax_rate(self, db: Db, operator: Actor, tax_rate_id: FromPath[uuid.UUID]) -> TaxRateOut:
        return await self._one(db, operator, await service.set_tax_rate_status(db, operator, tax_rate_id, "active"))


class RevenueAccountController(Controller):
    path = "/revenue-accounts"
    tags = ["Catalogue"]

    @get("/", operation_id="listRevenueAccounts", guards=[READ])
    async def list_accounts(
        self, db: Db, operator: Actor, cursor: Cursor = None, limit: Limit = None
    ) -> Page[RevenueAccountOut]:
        page = page_request(cursor, limit)
        return paginate(await service.list_accounts(db, operator, page), page, account_out)

    @get("/{revenue_account_id:uuid}", operation_id="getRevenueAccount", guards=[READ])
    async def get_account(self, db: Db, operator: Actor, revenue_account_id: FromPath[uuid.UUID]) -> RevenueAccountOut:
        return account_out(await service.get_account(db, operator, revenue_account_id))

    @post("/", operation_id="createRevenueAccount", guards=[WRITE])
    async def create_account(self, db: Db, operator: Actor, data: JSONBody[RevenueAccountCreate]) -> RevenueAccountOut:
        return account_out(await service.create_account(db, operator, data))

    @patch("/{revenue_account_id:uuid}", operation_id="updateRevenueAccount", guards=[WRITE])
    async def update_account(
        self, db: Db, operator: Actor, revenue_account_id: FromPath[uuid.UUID], data: JSONBody[RevenueAccountUpdate]
    ) -> RevenueAccountOut:
        return account_out(await service.update_account(db, operator, revenue_account_id, data))

    @post(
        "/{revenue_account_id:uuid}/deactivate",
        operation_id="deactivateRevenueAccount",
        status_code=200,
        guards=[WRITE],
    )
    async def deactivate_account(
        self, db: Db, operator: Actor, revenue_account_id: FromPath[uuid.UUID]
    ) -> RevenueAccountOut:
        return account_out(await service.set_account_active(db, operator, revenue_account_id, active=False))


class TaxPolicyController(Controller):
    path = "/locations/{location_id:uuid}/tax-policy"
    tags = ["Catalogue"]

    @get("/", operation_id="getLocationTaxPolicy", guards=[READ])
    async def get_policy(self, db: Db, operator: Actor, location_id: FromPath[uuid.UUID]) -> TaxPolicy:
        return policy_out(list(await service.get_tax_policy(db, operator, location_id)))

    @put("/", operation_id="replaceLocationTaxPolicy", guards=[WRITE])
    async def replace_policy(
        self, db: Db, operator: Actor, location_id: FromPath[uuid.UUID], data: JSONBody[TaxPolicy]
    ) -> TaxPolicy:
        return policy_out(list(await service.replace_tax_policy(db, operator, location_id, data.entries)))


class PlanController(Controller):
    path = "/plans"
    tags = ["Catalogue"]

    @get("/", operation_id="listPlans", guards=[READ])
    async def list_plans(self, db: Db, operator: Actor, cursor: Cursor = None, limit: Limit = None) -> Page[PlanOut]:
        page = page_request(cursor, limit)
        return paginate(await service.list_plans(db, operator, page), page, plan_out)

    @get("/{plan_id:uuid}", operation_id="getPlan", guards=[READ])
    async def get_plan(self, db: Db, operator: Actor, plan_id: FromPath[uuid.UUID]) -> PlanOut:
        return plan_out(await service.get_plan(db, operator, plan_id))

    @post("/", operation_id="createPlan", guards=[WRITE])
    async def create_plan(self, db: Db, operator: Actor, data: JSONBody[PlanCreate]) -> PlanOut:
        return plan_out(await service.create_plan(db, operator, data))

    @patch("/{plan_id:uuid}", operation_id="updatePlan", guards=[WRITE])
    async def update_plan(
        self, db: Db, operator: Actor, plan_id: FromPath[uuid.UUID], data: JSONBody[PlanUpdate]
    ) -> PlanOut:
        return plan_out(await service.update_plan(db, operator, plan_id, data))

    @post("/{plan_id:uuid}/deactivate", operation_id="deactivatePlan", status_code=200, guards=[WRITE])
    async def deactivate_plan(self, db: Db, operator: Actor, plan_id: FromPath[uuid.UUID]) -> PlanOut:
        return plan_out(await service.set_plan_active(db, operator, plan_id, active=False))


class DiscountController(Controller):
    path = "/discounts"
    tags = ["Catalogue"]

    @get("/", operation_id="listDiscounts", guards=[READ])
    async def list_discounts(
        self, db: Db, operator: Actor, cursor: Cursor = None, limit: Limit = None
    ) -> Page[DiscountOut]:
        page = page_request(cursor, limit)
        return paginate(await service.list_discounts(db, operator, page), page, discount_out)

    @get("/{discount_id:uuid}", operation_id="getDiscount", guards=[READ])
    async def get_discount(self, db: Db, operator: Actor, discount_id: FromPath[uuid.UUID]) -> DiscountOut:
        return discount_out(await service.get_discount(db, operator, discount_id))

    @post("/", operation_id="createDiscount", guards=[WRITE])
    async def create_discount(self, db: Db, operator: Actor, data: JSONBody[DiscountCreate]) -> DiscountOut:
        return discount_out(await service.create_discount(db, operator, data))

    @patch("/{discount_id:uuid}", operation_id="updateDiscount", guards=[WRITE])
    async def update_discount(
        self, db: Db, operator: Actor, discount_id: FromPath[uuid.UUID], data: JSONBody[DiscountUpdate]
    ) -> DiscountOut:
        return discount_out(await service.update_discount(db, operator, discount_id, data))

    @post("/{discount_id:uuid}/deactivate", operation_id="deactivateDiscount", status_code=200, guards=[WRITE])
    async def deactivate_discount(self, db: Db, operator: Actor, discount_id: FromPath[uuid.UUID]) -> DiscountOut:
        return discount_out(await service.set_discount_active(db, operator, discount_id, active=False))
