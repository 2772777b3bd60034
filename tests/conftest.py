"""Fixtures: a fresh database per run, built by the migrations; each test inside a transaction
that is rolled back; the real app (API, console, portal) on that same connection; real Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import job_key_prefix
from litestar import Litestar
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from app.db import driver
from app.db.direct import Transaction
from app.db.engine import create_engine
from app.db.provision import APP_ROLE, ensure_app_login
from app.kit.clock import Clock
from app.kit.crypto import SecretBox
from app.kit.jobs import JobQueue, deserialize, serialize
from app.kit.security import Passwords
from app.main import build_state, providers
from app.settings import Settings
from app.state import STATE_KEY, AppState
from portal.asgi import create_app
from sandbox.xero.server import SandboxServer
from tests.support.db import drop_database, fresh_database, migrate
from tests.support.worlds import (
    World,
    make_world,
)

pytest_plugins = ["tests.fixtures.xero"]


if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
    pytest.exit(
        "The tests need DATABASE_URL and REDIS_URL; `python3 dev.py test` starts both for you.",
        returncode=2,
    )


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
        providers=providers(settings, redis),
        direct=Savepoints(connection),
    )
    yield state
    await state.providers.aclose()


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


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[AppState]:
    """App state on its own connections, for tests on committed data (workers, concurrency)."""
    state = await build_state(settings)
    yield state
    await state.close()


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
