"""Liveness (the process answers) and readiness (its dependencies answer, and which do not)."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Controller, Response, get
from sqlalchemy import text

from app.dependencies import State
from app.state import AppState


class Readiness(msgspec.Struct):
    status: str
    checks: dict[str, str]


async def _check_database(state: AppState) -> None:
    async with state.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _check_redis(state: AppState) -> None:
    await state.redis.ping()


class HealthController(Controller):
    path = "/health"
    tags = ["Health"]

    @get("/live", operation_id="live", summary="Check the process is live")
    async def live(self) -> dict[str, str]:
        """Answers 200 while the process runs; it checks no dependency (readiness does that)."""
        return {"status": "ok"}

    @get("/ready", operation_id="ready", summary="Check the service is ready")
    async def ready(self, app_state: State) -> Response[Readiness]:
        """Whether PostgreSQL and Redis answer, within two seconds each: 200 when both do, 503 otherwise, with
        the result of each check."""
        checks: dict[str, str] = {}
        for name, check in (("postgresql", _check_database), ("redis", _check_redis)):
            try:
                await asyncio.wait_for(check(app_state), timeout=2)
                checks[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its reason
                checks[name] = f"failed: {type(exc).__name__}"
        ok = all(value == "ok" for value in checks.values())
        return Response(
            Readiness(status="ok" if ok else "unavailable", checks=checks),
            status_code=200 if ok else 503,
        )
