"""Fixtures: a fresh database per run, built by the migrations; each test inside a transaction
that is rolled back; the real app (API, console, portal) on that same connection; real Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command
from alembic.config import Config
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import job_key_prefix
from litestar import Litestar
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

import migrations
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
from app.db import driver
from app.db.direct import Transaction
from app.db.engine import bind_tenant, create_engine
from app.db.provision import APP_ROLE, ensure_app_login
from app.invoice.models import Invoice
from app.kit.clock import Clock
from app.kit.crypto import SecretBox
from app.kit.jobs import JobQueue, deserialize, serialize
from app.kit.security import Passwords, new_api_key, token_digest
from app.location.models import Location
from app.main import build_state, xero_client, xero_throttle
from app.member.models import Member
from app.membership.models import Membership
from app.membership.schemas import MembershipCreate
from app.membership.service import create_membership
from app.settings import Settings
from app.state import STATE_KEY, AppState
from app.tenant.schemas import OwnerCreate, TenantCreate
from app.tenant.service import create_tenant
from app.user.models import User
from portal.asgi import create_app
from sandbox.xero.server import SandboxServer
from workers.main import make_worker

pytest_plugins = ["tests.fixtures.xero"]

PASSWORD = "correct-horse-battery"

if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
    pytest.exit(
        "The tests need DATABASE_URL and REDIS_URL; `python3 dev.py test` starts both for you.",
        returncode=2,
    )


def _admin_url() -> str:
    return make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql").render_as_string(hide_password=False)


def migrate(url: str, revision: str = "head", *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", os.path.dirname(migrations.__file__))
    config.attributes["url"] = url
    (command.downgrade if down else command.upgrade)(config, revision)


def fresh_database(prefix: str) -> str:
    """Create an empty database on the test server; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        connection = await asyncpg.connect(_admin_url())
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    return make_url(_admin_url()).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    async def drop() -> None:
        connection = await asyncpg.connect(_admin_url())
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(drop())


@pytest.fixture(scope="session")
def owner_url() -> Iterator[str]:
    url = fresh_database("flexledger_test")
    migrate(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def database_url(owner_url: str) -> str:
    """The app's own login: a member of the app role, nothing more."""
    return asyncio.run(ensure_app_login(owner_url, "flexledger_test_login", "test-login-password"))


@pytest.fixture(scope="session")
def settings(database_url: str, owner_url: str, xero_server: SandboxServer) -> Settings:
    # Read here, not at import: the fixtures module is a plugin, which pytest imports itself.
    from tests.fixtures.xero import CLIENT_ID, CLIENT_SECRET

    return Settings(
        environment="test",
        database_url=database_url,
        migration_database_url=owner_url,
        redis_url=os.environ["REDIS_URL"],
        secret_key="test-secret-key-" + "x" * 32,
        platform_admin_token="platform-admin-token-for-tests",
        # Cheap hashes keep the suite fast; production cost is the library default.
        password_time_cost=1,
        password_memory_kib=1024,
        worker_queue_name=f"flexledger-test:{uuid.uuid4().hex[:8]}",
        redis_key_prefix=f"fl-test-{uuid.uuid4().hex[:8]}:",
        # INFO, as in production: the access log is part of what the tests check.
        log_level="INFO",
        xero_client_id=CLIENT_ID,
        xero_client_secret=CLIENT_SECRET,
        xero_login_url=xero_server.url,
        xero_identity_url=xero_server.url,
        xero_api_url=xero_server.url,
        xero_go_url=xero_server.url,
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url.get_secret_value(), app_role=APP_ROLE, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def redis(settings: Settings) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(
        RedisSettings.from_dsn(str(settings.redis_url)),
        job_serializer=serialize,
        job_deserializer=deserialize,
        default_queue_name=settings.worker_queue_name,
    )
    yield pool
    await pool.aclose(close_connection_pool=True)


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One connection per test, in a transaction rolled back at the end: tests leave nothing."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


class Savepoints:
    """Direct transactions for tests: savepoints in the test's own transaction, so that a request
    that only reads sees what the test wrote, and nothing outlives the test."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        connection = await driver.driver_connection(self.connection)
        async with connection.transaction():
            yield Transaction(connection, self.connection.dialect)

    async def close(self) -> None:
        return None


@pytest.fixture
async def state(
    settings: Settings,
    connection: AsyncConnection,
    redis: ArqRedis,
    engine: AsyncEngine,
) -> AsyncIterator[AppState]:
    # Only this run's keys go: REDIS_URL may name a Redis that other things use.
    async for key in redis.scan_iter(match=f"{settings.redis_key_prefix}*", count=500):
        await redis.delete(key)
    for job_id in await redis.zrange(settings.worker_queue_name, 0, -1):
        await redis.delete(job_key_prefix + job_id.decode())
    await redis.delete(settings.worker_queue_name)
    state = AppState(
        settings=settings,
        engine=engine,
        sessionmaker=async_sessionmaker(
            bind=connection,
            expire_on_commit=False,
            autoflush=False,
            join_transaction_mode="create_savepoint",
        ),
        redis=redis,
        queue=JobQueue(redis, settings.worker_queue_name),
        passwords=Passwords(settings),
        clock=Clock(),
        secrets=SecretBox(settings),
        xero=xero_client(settings),
        xero_throttle=xero_throttle(settings, redis),
        direct=Savepoints(connection),
    )
    yield state
    if state.xero is not None:
        await state.xero.aclose()


@pytest.fixture
async def db(state: AppState) -> AsyncIterator[AsyncSession]:
    async with state.sessionmaker() as session:
        yield session


@pytest.fixture
def app(state: AppState) -> Litestar:
    app = create_app(state=state)
    # The state is handed in, so the lifespan has nothing to build: set it here (entering the
    # lifespan from a fixture trips anyio's task-bound cancel scopes at teardown).
    app.state[STATE_KEY] = state
    return app


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP into the app on the test's own event loop (so it shares the test's connection)."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver.local") as client:
        yield client


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


def keyed(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` with a fresh Idempotency-Key, which money-moving requests must carry."""
    return {**headers, "Idempotency-Key": str(uuid.uuid4())}


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The answer's JSON, once its status is the one expected (the body explains a failure)."""
    assert response.status_code == status, response.text
    return response.json()


async def revenue_account(client: httpx.AsyncClient, world: World, kind: str) -> dict[str, Any]:
    """The tenant's built-in revenue account of ``kind``, as the API shows it."""
    accounts = ok(await client.get("/api/v1/revenue-accounts", headers=world.headers()))["data"]
    found: dict[str, Any] = next(account for account in accounts if account["kind"] == kind)
    return found


async def tax_account(client: httpx.AsyncClient, world: World, kind: str, tax_rate_id: str | None = None) -> None:
    """Give a built-in revenue account a tax rate (the world's VAT unless another is named)."""
    account = await revenue_account(client, world, kind)
    body = {"tax_rate_id": tax_rate_id or str(world.tax_rate.id)}
    ok(await client.patch(f"/api/v1/revenue-accounts/{account['id']}", json=body, headers=world.headers()))


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[AppState]:
    """App state on its own connections, for tests on committed data (workers, concurrency)."""
    state = await build_state(settings)
    yield state
    await state.close()


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


@pytest.fixture
async def world_a(db: AsyncSession, state: AppState) -> World:
    world = await make_world(db, state, "alpha")
    await db.commit()
    return world


@pytest.fixture
async def world_b(db: AsyncSession, state: AppState) -> World:
    world = await make_world(db, state, "bravo")
    await db.commit()
    return world


async def issue(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """The world's invoice (the fixture's November draft), issued through the API."""
    issued: dict[str, Any] = ok(
        await client.post(f"/api/v1/invoices/{world.invoice.id}/issue", headers=world.headers())
    )
    return issued


async def run_worker(state: AppState) -> None:
    """A real arq worker, in burst mode: runs what is queued, then stops. Without the clock's rings:
    a burst that met one (the billing scheduler at :m0:30 and :m5:30) queued jobs for every tenant
    other tests had committed, run beside the test's own on its one connection. The tests of the
    sweeps and the scheduler call them directly."""
    worker = make_worker(state.settings, burst=True, state=state, scheduled=False)
    try:
        await worker.async_run()
    finally:
        await worker.close()
