"""Demo data for the local run: one operator with two locations, its staff, members and an API key.

Idempotent: a second run finds the operator and only prints the sign-ins again. The demo API key is
derived from the secret key, so it can be printed on every start although only its digest is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_key.models import ApiKey
from app.api_key.repository import ApiKeyRepository
from app.auth.principal import ROLE_SCOPES, SCOPES, Operator
from app.billing.engine import bill_location
from app.billing.periods import add_months, period_starting_on_or_before
from app.booking.schemas import BookingCreate, ResourceCreate
from app.booking.service import create_booking, create_resource
from app.catalog import service as catalog
from app.catalog.repository import RevenueAccountRepository
from app.catalog.schemas import DiscountCreate, PlanCreate, TaxComponentIn, TaxPolicyEntry, TaxRateCreate
from app.company.schemas import CompanyCreate
from app.company.service import create_company
from app.db import system
from app.kit.clock import local_today
from app.kit.security import API_KEY_PREFIX, Passwords, token_digest
from app.ledger.schemas import PaymentCreate
from app.ledger.service import record_payment
from app.location.repository import LocationRepository
from app.location.schemas import LocationCreate
from app.location.service import create_location
from app.main import build_state
from app.member.models import Member
from app.member.schemas import MemberCreate
from app.member.service import create_member
from app.membership.schemas import MembershipCreate
from app.membership.service import create_membership
from app.settings import Settings
from app.state import AppState
from app.tenant.schemas import OwnerCreate, TenantCreate
from app.tenant.service import create_tenant
from app.user.schemas import UserCreate
from app.user.service import create_user

SLUG = "harbour"
STAFF_PASSWORD = "harbour-staff-1"
MEMBER_PASSWORD = "harbour-member-1"
MEMBERS = [
    ("ada@example.test", "Ada Lovelace", "LON"),
    ("grace@example.test", "Grace Hopper", "LON"),
    ("alan@example.test", "Alan Turing", "LON"),
    ("mary@example.test", "Mary Somerville", "DUB"),
]


def demo_api_key(settings: Settings, slug: str = SLUG) -> tuple[str, str]:
    def derive(label: str) -> bytes:
        # Another slug's key is its own (prefixes are unique); the demo's keeps the labels it had.
        return hmac.new(
            settings.secret_key.get_secret_value().encode(),
            (label if slug == SLUG else f"{label}:{slug}").encode(),
            hashlib.sha256,
        ).digest()

    prefix = derive("demo-api-key-prefix").hex()[:12]
    secret = base64.urlsafe_b64encode(derive("demo-api-key-secret")).rstrip(b"=").decode()
    return f"{API_KEY_PREFIX}{prefix}_{secret}", prefix


async def seed_demo(settings: Settings, slug: str = SLUG) -> str:
    """Create the demo operator ``slug`` unless it exists; returns its operator API key. (Another
    slug than the demo's gives a copy, e.g. for tests that want realistic data.)"""
    state = await build_state(settings)
    try:
        async with state.sessionmaker() as session:
            async with session.begin():
                if await system.tenant_by_slug(session, slug) is None:
                    operator, companies = await _create(session, state.passwords, settings, slug, state.clock.now())
                    await _bill(session, state, operator, companies["Alan Turing"])
            await state.queue.enqueue_deferred(session)
    finally:
        await state.close()
    key, _ = demo_api_key(settings, slug)
    print(
        f"Demo operator '{slug}' (organisation field on the sign-in pages)\n"
        f"  console sign-in:  owner@harbour.test / {STAFF_PASSWORD}   (also finance@…, manager@… for Dublin)\n"
        f"  portal sign-in:   ada@example.test / {MEMBER_PASSWORD}   (also grace@, alan@, mary@example.test)\n"
        f"  operator API key: {key}"
    )
    return key


async def _create(
    session: AsyncSession, passwords: Passwords, settings: Settings, slug: str, now: datetime
) -> tuple[Operator, dict[str, uuid.UUID]]:
    """The operator, with its companies' ids by legal name."""
    tenant, owner, _, _ = await create_tenant(
        session,
        passwords,
        TenantCreate(
            slug=slug,
            name="Harbour Works",
            default_currency="GBP",
            default_country="GB",
            default_time_zone="Europe/London",
            support_email="billing@harbour.test",
            owner=OwnerCreate(email="owner@harbour.test", name="Olive Owner", password=STAFF_PASSWORD),
        ),
        now,
    )
    operator = Operator(
        tenant_id=tenant.id,
        actor_kind="user",
        actor_id=owner.id,
        scopes=ROLE_SCOPES["owner"],
        role="owner",
    )
    london = await create_location(
        session,
        operator,
        LocationCreate(
            name="London Bridge",
            code="LON",
            time_zone="Europe/London",
            country="GB",
            currency="GBP",
            tax_mode="exclusive",
        ),
    )
    dublin = await create_location(
        session,
        operator,
        LocationCreate(
            name="Dublin Docks",
            code="DUB",
            time_zone="Europe/Dublin",
            country="IE",
            currency="EUR",
            tax_mode="inclusive",
        ),
    )
    locations = {"LON": london.id, "DUB": dublin.id}
    await create_user(
        session,
        operator,
        passwords,
        UserCreate(
            email="finance@harbour.test",
            name="Fin Ance",
            role="finance",
            password=STAFF_PASSWORD,
        ),
    )
    await create_user(
        session,
        operator,
        passwords,
        UserCreate(
            email="manager@harbour.test",
            name="Mo Manager",
            role="location_manager",
            password=STAFF_PASSWORD,
            location_ids=[dublin.id],
        ),
    )
    members: dict[str, Member] = {}
    for email, name, code in MEMBERS:
        members[email] = await create_member(
            session,
            operator,
            passwords,
            settings,
            MemberCreate(
                email=email,
                name=name,
                location_id=locations[code],
                password=MEMBER_PASSWORD,
            ),
        )
    companies = await _catalogue(session, operator, london.id, dublin.id, members, now)
    key, prefix = demo_api_key(settings, slug)
    ApiKeyRepository(session, tenant.id).add(
        ApiKey(
            name="Demo key",
            prefix=prefix,
            digest=token_digest(key),
            scopes=sorted(SCOPES),
            created_by_user_id=owner.id,
        )
    )
    await session.flush()
    return operator, companies


async def _catalogue(
    session: AsyncSession,
    operator: Operator,
    london: uuid.UUID,
    dublin: uuid.UUID,
    members: dict[str, Member],
    now: datetime,
) -> dict[str, uuid.UUID]:
    """Prices, taxes, billing accounts and memberships that started in the last few months; the
    companies' ids by legal name."""
    uk_vat = await catalog.create_tax_rate(
        session,
        operator,
        TaxRateCreate(name="UK VAT 20%", components=[TaxComponentIn(name="VAT", percent="20")]),
    )
    ie_vat = await catalog.create_tax_rate(
        session,
        operator,
        TaxRateCreate(name="IE VAT 23%", components=[TaxComponentIn(name="VAT", percent="23")]),
    )
    accounts_repo = RevenueAccountRepository(session, operator.tenant_id)
    fees, bookings = await accounts_repo.builtin("membership_fees"), await accounts_repo.builtin("booking_fees")
    fees.tax_rate_id = bookings.tax_rate_id = uk_vat.id
    await catalog.replace_tax_policy(
        session,
        operator,
        dublin,
        [TaxPolicyEntry(revenue_account_id=account.id, tax_rate_id=ie_vat.id) for account in (fees, bookings)],
    )
    hot = await catalog.create_plan(session, operator, PlanCreate(name="Hot desk", currency="GBP", price=25000))
    fixed = await catalog.create_plan(
        session, operator, PlanCreate(name="Dedicated desk", currency="GBP", price=40000, included_credit=10000)
    )
    dublin_hot = await catalog.create_plan(
        session, operator, PlanCreate(name="Hot desk (Dublin)", currency="EUR", price=22000)
    )
    founders = await catalog.create_discount(
        session, operator, DiscountCreate(name="Founders", kind="percent", percent="12.5")
    )
    accounts = {
        "ada@example.test": ("Analytical Engines Ltd", "company", london, "GBP"),
        "grace@example.test": ("Analytical Engines Ltd", "company", london, "GBP"),
        "alan@example.test": ("Alan Turing", "person", london, "GBP"),
        "mary@example.test": ("Somerville Studio", "company", dublin, "EUR"),
    }
    period = period_starting_on_or_before(now.date(), 1)
    starts = {
        "ada@example.test": (fixed, add_months(period, -2) + timedelta(days=9), founders.id),
        "grace@example.test": (hot, add_months(period, -1), None),
        "alan@example.test": (hot, period, None),
        "mary@example.test": (dublin_hot, add_months(period, -1) + timedelta(days=4), None),
    }
    companies: dict[str, uuid.UUID] = {}
    for email, (name, kind, location, currency) in accounts.items():
        if name not in companies:
            company = await create_company(
                session,
                operator,
                CompanyCreate(
                    legal_name=name,
                    kind=kind,  # type: ignore[arg-type]
                    billing_email=email,
                    country="IE" if currency == "EUR" else "GB",
                    currency=currency,
                    home_location_id=location,
                    address_line1="1 Harbour Street",
                    city="Dublin" if currency == "EUR" else "London",
                ),
            )
            companies[name] = company.id
        member = members[email]
        member.company_id = companies[name]
        plan, start, discount = starts[email]
        await create_membership(
            session,
            operator,
            MembershipCreate(
                company_id=companies[name],
                member_id=member.id,
                plan_id=plan.id,
                location_id=location,
                start_date=start,
                discount_id=discount,
            ),
        )
    await session.flush()
    await _rooms(session, operator, london, dublin, companies, period)
    return companies


async def _rooms(
    session: AsyncSession,
    operator: Operator,
    london: uuid.UUID,
    dublin: uuid.UUID,
    companies: dict[str, uuid.UUID],
    period: date,
) -> None:
    """Rooms to book, and last month's meetings (billed by this month's run) and one to come."""
    boardroom = await create_resource(
        session,
        operator,
        ResourceCreate(location_id=london, name="Boardroom", hourly_rate=4000, daily_rate=25000, capacity=12),
    )
    booth = await create_resource(
        session, operator, ResourceCreate(location_id=london, name="Phone booth", kind="other", hourly_rate=500)
    )
    liffey = await create_resource(
        session, operator, ResourceCreate(location_id=dublin, name="Liffey Room", hourly_rate=3500, capacity=6)
    )
    last_month = add_months(period, -1) + timedelta(days=9)
    meetings = [
        (boardroom, "Analytical Engines Ltd", last_month, 10, 13, "Board meeting"),
        (booth, "Alan Turing", last_month + timedelta(days=2), 9, 11, None),
        (liffey, "Somerville Studio", last_month + timedelta(days=5), 14, 16, "Client workshop"),
        (boardroom, "Analytical Engines Ltd", period + timedelta(days=20), 9, 17, "Quarterly review"),
    ]
    for resource, company, day, start, end, title in meetings:
        await create_booking(
            session,
            operator,
            BookingCreate(
                resource_id=resource.id,
                company_id=companies[company],
                starts_at=datetime.combine(day, time(start)),
                ends_at=datetime.combine(day, time(end)),
                title=title,
            ),
        )


async def _bill(session: AsyncSession, state: AppState, operator: Operator, paying: uuid.UUID) -> None:
    """This period's billing, issued, and one customer (``paying``) who has paid already."""
    tenant_id = operator.tenant_id
    locations = (await session.execute(LocationRepository(session, tenant_id).select())).scalars().all()
    invoices = []
    for location in locations:
        period = period_starting_on_or_before(local_today(state.clock, location.time_zone), location.billing_day)
        outcome = await bill_location(
            session, tenant_id, location, period, started_by="system:demo", issue_invoices=True, clock=state.clock
        )
        invoices += outcome.invoices
    paid = next(invoice for invoice in invoices if invoice.company_id == paying)
    await record_payment(
        session,
        operator,
        PaymentCreate(
            company_id=paid.company_id,
            amount=paid.total,
            currency=paid.currency,
            method="bank_transfer",
            paid_on=paid.issue_date or date.today(),
            reference="Bank transfer",
        ),
    )
