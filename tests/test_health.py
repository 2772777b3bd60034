"""Liveness and readiness: ready names the dependency that is down."""

from __future__ import annotations

import httpx
import pytest
from arq.connections import ArqRedis
from pydantic import ValidationError

from app.settings import Settings
from app.state import STATE_KEY, AppState
from portal.asgi import create_app


async def test_live_and_ready(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"postgresql": "ok", "redis": "ok"}}


async def test_ready_names_the_dependency_that_is_down(state: AppState) -> None:
    # Nothing listens on port 1: Redis is down while PostgreSQL is up.
    dead_redis = ArqRedis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    app = create_app(state=state)
    app.state[STATE_KEY] = AppState(**{**state.__dict__, "redis": dead_redis})
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver.local") as client:
        ready = await client.get("/health/ready")
    await dead_redis.aclose()
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["postgresql"] == "ok"
    assert body["checks"]["redis"].startswith("failed")


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"secret_key": "short"}, "secret_key"),
        ({"database_url": "mysql://x@y/z"}, "postgresql"),
        ({"redis_url": "not a url"}, "redis_url"),
        ({"platform_admin_token": "tiny"}, "platform_admin_token"),
    ],
)
def test_settings_are_validated_at_start_up(settings: Settings, override: dict[str, str], complaint: str) -> None:
    values = {
        "database_url": settings.database_url.get_secret_value(),
        "redis_url": str(settings.redis_url),
        "secret_key": settings.secret_key.get_secret_value(),
        **override,
    }
    with pytest.raises(ValidationError, match=complaint):
        Settings(**values)  # type: ignore[arg-type]


def test_secrets_never_show_in_settings_output(settings: Settings) -> None:
    shown = repr(settings) + str(settings.model_dump())
    assert settings.secret_key.get_secret_value() not in shown
    assert "test-login-password" not in shown
