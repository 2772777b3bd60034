"""What the running app holds: settings, database, Redis, queue, clock, the outside services'
clients. Built in the lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db.direct import Transactions
from app.kit.clock import Clock
from app.kit.crypto import SecretBox
from app.kit.jobs import JobQueue
from app.kit.providers import Providers
from app.kit.security import Passwords
from app.settings import Settings

STATE_KEY = "flexledger"


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: ArqRedis
    queue: JobQueue
    passwords: Passwords
    clock: Clock
    secrets: SecretBox
    # The outside services' clients (app.kit.providers): none until the deployment configures one.
    providers: Providers
    # Where requests that only read get their transaction (app.db.direct).
    direct: Transactions

    async def close(self) -> None:
        await self.providers.aclose()
        await self.redis.aclose(close_connection_pool=True)
        await self.direct.close()
        await self.engine.dispose()

    @staticmethod
    def of(app: Any) -> AppState:
        state: AppState = app.state[STATE_KEY]
        return state
