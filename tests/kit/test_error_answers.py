"""What every error answer looks like, and failures after the commit."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from arq.connections import ArqRedis
from litestar import Litestar
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import bind_tenant
from app.email.models import Email
from app.kit.jobs import JobQueue
from app.member.models import Member
from app.state import STATE_KEY, AppState
from tests.support.api import (
    assert_problem,
)
from tests.support.worlds import World


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/api/v1/locations", {}, 401),
        ("GET", "/api/v1/locations", {"Authorization": "Basic dXNlcjpwYXNz"}, 401),
        ("GET", "/api/v1/locations", {"Authorization": "Bearer flk_0123456789ab_nope"}, 401),
        ("GET", "/api/v1/locations", {"Authorization": "Bearer garbage"}, 401),
        ("GET", "/api/v1/no-such-thing", None, 404),
        ("DELETE", "/api/v1/locations", None, 405),
        ("GET", "/api/v1/locations?limit=0", None, 400),  # outside the limits the document declares
        ("GET", "/api/v1/members?location_id=nope", None, 400),
    ],
)
async def test_every_error_is_problem_json_with_a_code(
    client: httpx.AsyncClient, world_a: World, *, method: str, path: str, headers: dict[str, str] | None, status: int
) -> None:
    response = await client.request(method, path, headers=world_a.headers() if headers is None else headers)
    assert_problem(response, status)


@pytest.mark.parametrize(
    "address",
    ["(c)@example.test", "a,b@example.test", "a;b@example.test", "İ" * 160 + "@example.test", '"a b"@example.test'],
)
async def test_addresses_a_mail_server_would_misread_are_refused(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World, address: str
) -> None:
    body = {"email": address, "name": "Odd", "location_id": str(world_a.location.id)}
    refused = await client.post("/api/v1/members", json=body, headers=world_a.headers())
    assert 400 <= refused.status_code < 500, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    await bind_tenant(db, world_a.tenant_id)
    assert (await db.execute(select(func.count()).select_from(Member).where(Member.name == "Odd"))).scalar_one() == 0


async def test_a_queue_that_is_down_after_commit_does_not_fail_the_request(
    app: Litestar, client: httpx.AsyncClient, db: AsyncSession, state: AppState, world_a: World
) -> None:
    """The member is saved; the welcome mail waits in the outbox for the sweep."""
    dead = ArqRedis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    app.state[STATE_KEY] = dataclasses.replace(state, queue=JobQueue(dead, state.settings.worker_queue_name))
    try:
        body = {"email": "late@alpha.test", "name": "Late Mail", "location_id": str(world_a.location.id)}
        created = await client.post("/api/v1/members", json=body, headers=world_a.headers())
        assert created.status_code == 201, created.text
    finally:
        app.state[STATE_KEY] = state
        await dead.aclose()
    await bind_tenant(db, world_a.tenant_id)
    waiting = (await db.execute(select(Email.status).where(Email.to_address == "late@alpha.test"))).scalars().all()
    assert waiting == ["queued"]
