"""Worlds to test in: tenants with locations, plans, customers and credentials, in the test's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import (
    AsyncSession,
)

from app.api_key.models import ApiKey
from app.api_key.repository import ApiKeyRepository
from app.auth.principal import ROLE_SCOPES, SCOPES, Operator
from app.billing.engine import bill_location
from app.billing.models import BillingRun
from app.catalog import service as catalog
from app.catalog.models import Discount, Plan, TaxRate
from app.catalog.repository import RevenueAccountRepository
from app.catalog.schemas import DiscountCreate, PlanCreate, TaxComponentIn, TaxRateCreate
from app.company.models import Company
from app.company.schemas import CompanyCreate
from app.company.service import create_company
from app.db.engine import bind_tenant
from app.invoice.models import Invoice
from app.kit.security import new_api_key, token_digest
from app.location.models import Location
from app.member.models import Member
from app.membership.models import Membership
from app.membership.schemas import MembershipCreate
from app.membership.service import create_membership
from app.state import AppState
from app.tenant.schemas import OwnerCreate, TenantCreate
from app.tenant.service import create_tenant
from app.user.models import User

PASSWORD = "correct-horse-battery"


@dataclass
class World:
    """One tenant with a location, a user, a member, and API keys, for tests to act on."""

    tenant_id: uuid.UUID
    slug: str
    owner: User
    staff: User
    location: Location
    member: Member
    key: str
    spare_key: ApiKey
    tax_rate: TaxRate
    plan: Plan
    discount: Discount
    company: Company
    membership: Membership
    billing_run: BillingRun
    invoice: Invoice

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    @property
    def operator(self) -> Operator:
        return Operator(self.tenant_id, "user", self.owner.id, ROLE_SCOPES["owner"], role="owner")


def new_location(
    tenant_id: uuid.UUID,
    code: str = "MAIN",
    *,
    name: str = "Main",
    time_zone: str = "Europe/London",
    country: str = "GB",
) -> Location:
    """A location priced in GBP, without tax included, billed on the 1st, numbered CODE-000001."""
    return Location(
        tenant_id=tenant_id,
        name=name,
        code=code,
        time_zone=time_zone,
        country=country,
        currency="GBP",
        tax_mode="exclusive",
        invoice_number_template=f"{code}-{{number:06}}",
        credit_note_number_template=f"{code}-CN-{{number:06}}",
    )


def location_body(**changes: Any) -> dict[str, Any]:
    """A location to create through the API (North, GBP, tax added on top, billed on the 5th), with
    ``changes`` made; a field given as ``...`` is left out."""
    body: dict[str, Any] = {
        "name": "North",
        "code": "NTH",
        "time_zone": "Europe/London",
        "country": "GB",
        "currency": "GBP",
        "tax_mode": "exclusive",
        "billing_day": 5,
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


def new_tenant(slug: str) -> TenantCreate:
    """What the platform would send to create an operator called ``slug``."""
    return TenantCreate(
        slug=slug,
        name=f"{slug.title()} Spaces",
        default_currency="GBP",
        default_country="GB",
        default_time_zone="Europe/London",
        owner=OwnerCreate(email=f"owner@{slug}.test", name="Owner", password=PASSWORD),
    )


async def make_world(session: AsyncSession, state: AppState, slug: str) -> World:
    tenant, owner, _, secret = await create_tenant(session, state.passwords, new_tenant(slug), state.clock.now())
    location = new_location(tenant.id)
    session.add(location)
    await session.flush()
    member = Member(
        tenant_id=tenant.id,
        email=f"member@{slug}.test",
        name="Member",
        location_id=location.id,
        password_hash=await state.passwords.hash(PASSWORD),
    )
    session.add(member)
    staff = User(tenant_id=tenant.id, email=f"staff@{slug}.test", name="Staff", role="finance", password_hash=None)
    session.add(staff)
    spare_secret, prefix = new_api_key()
    spare = ApiKeyRepository(session, tenant.id).add(
        ApiKey(
            name="spare",
            prefix=prefix,
            digest=token_digest(spare_secret),
            scopes=sorted(SCOPES),
        )
    )
    await session.flush()
    owner_operator = Operator(tenant.id, "user", owner.id, ROLE_SCOPES["owner"], role="owner")
    billing = await make_billing(session, state, owner_operator, location)
    member.company_id = billing[3].id  # the member's charges go to Acme
    await session.flush()
    await bind_tenant(session, None)
    return World(tenant.id, slug, owner, staff, location, member, secret, spare, *billing)


async def open_tenant(
    session: AsyncSession, state: AppState, location: dict[str, str] | None = None
) -> tuple[Operator, Location]:
    """A new tenant with a unique slug, acting as its owner, and one location (``new_location``
    with these fields)."""
    tenant, owner, _, _ = await create_tenant(
        session, state.passwords, new_tenant(f"t{uuid.uuid4().hex[:10]}"), state.clock.now()
    )
    place = new_location(tenant.id, **(location or {}))
    session.add(place)
    await session.flush()
    return Operator(tenant.id, "user", owner.id, ROLE_SCOPES["owner"], role="owner"), place


async def new_customer(
    session: AsyncSession,
    operator: Operator,
    location: Location,
    name: str = "Acme Ltd",
    email: str = "accounts@acme.test",
    country: str = "GB",
) -> Company:
    """A company billed in GBP whose home is ``location``."""
    return await create_company(
        session,
        operator,
        CompanyCreate(
            legal_name=name, billing_email=email, country=country, currency="GBP", home_location_id=location.id
        ),
    )


async def make_billing(
    session: AsyncSession, state: AppState, operator: Operator, location: Location
) -> tuple[TaxRate, Plan, Discount, Company, Membership, BillingRun, Invoice]:
    """A priced catalogue, a customer with a membership, and one billing run with its invoice."""
    vat = await catalog.create_tax_rate(
        session, operator, TaxRateCreate(name="VAT 20%", components=[TaxComponentIn(name="VAT", percent="20")])
    )
    accounts = RevenueAccountRepository(session, operator.tenant_id)
    membership_fees = await accounts.builtin("membership_fees")
    membership_fees.tax_rate_id = vat.id
    plan = await catalog.create_plan(session, operator, PlanCreate(name="Hot desk", currency="GBP", price=25000))
    discount = await catalog.create_discount(
        session, operator, DiscountCreate(name="Founders", kind="percent", percent="12.5")
    )
    company = await new_customer(session, operator, location)
    membership = await create_membership(
        session,
        operator,
        MembershipCreate(
            company_id=company.id,
            plan_id=plan.id,
            location_id=location.id,
            start_date=date(2026, 10, 15),
            discount_id=discount.id,
        ),
    )
    outcome = await bill_location(
        session,
        operator.tenant_id,
        location,
        date(2026, 11, 1),
        started_by="test",
        issue_invoices=False,
        clock=state.clock,
    )
    return vat, plan, discount, company, membership, outcome.run, outcome.invoices[0]
