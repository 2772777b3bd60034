"""What the running app holds: settings, database, Redis, queue, clock, the Xero client. Built in the lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db.direct import Transactions
from app.integrations.xero.client import XeroClient
from app.integrations.xero.throttle import XeroThrottle
from app.kit.clock import Clock
from app.kit.crypto import SecretBox
from app.kit.jobs import JobQueue
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
    # None until the deployment names its Xero app (XERO_CLIENT_ID).
    xero: XeroClient | None
    xero_throttle: XeroThrottle
    # Where requests that only read get their transaction (app.db.direct).
    direct: Transactions

    async def close(self) -> None:
        if self.xero is not None:
            await self.xero.aclose()
        await self.redis.aclose(close_connection_pool=True)
        await self.direct.close()
        await self.engine.dispose()

    @staticmethod
    def of(app: Any) -> AppState:
        state: AppState = app.state[STATE_KEY]
        return state
