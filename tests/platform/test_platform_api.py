"""The platform API that creates tenants."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import ROLE_SCOPES, SCOPES
from app.db.engine import bind_tenant
from app.tenant.models import Tenant
from tests.support.api import (
    PLATFORM_HEADERS,
    assert_problem,
    ok,
)
from tests.support.worlds import PASSWORD, World


def tenant_request(slug: str) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": "Charlie Hub",
        "default_currency": "USD",
        "default_country": "US",
        "default_time_zone": "America/New_York",
        "owner": {"email": "Founder@Charlie.test", "name": "Founder", "password": PASSWORD},
        "support_email": "help@charlie.test",
    }


async def test_platform_creates_a_tenant_with_a_working_owner_key(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    response = await client.post("/api/platform/tenants", json=tenant_request("charlie"), headers=PLATFORM_HEADERS)
    created = ok(response, 201)
    assert set(created) == {"tenant", "owner_user_id", "owner_api_key"}
    assert created["tenant"]["slug"] == "charlie"
    assert created["tenant"]["status"] == "active"
    assert created["owner_api_key"]["api_key"]["scopes"] == sorted(ROLE_SCOPES["owner"])
    assert set(created["owner_api_key"]["api_key"]["scopes"]) == SCOPES
    assert created["owner_api_key"]["api_key"]["created_by_user_id"] == created["owner_user_id"]
    assert PASSWORD not in response.text

    key = created["owner_api_key"]["key"]
    headers = {"Authorization": f"Bearer {key}"}
    tenant = ok(await client.get("/api/v1/tenant", headers=headers))
    assert tenant == created["tenant"]
    assert ok(await client.get("/api/v1/locations", headers=headers))["data"] == []
    users = ok(await client.get("/api/v1/users", headers=headers))["data"]
    assert [(user["id"], user["email"], user["role"]) for user in users] == [
        (created["owner_user_id"], "founder@charlie.test", "owner")
    ]

    tenant_id = uuid.UUID(created["tenant"]["id"])
    await bind_tenant(db, tenant_id)
    assert (await db.execute(select(Tenant.slug))).scalars().all() == ["charlie"]


async def test_platform_refuses_a_wrong_token(client: httpx.AsyncClient, db: AsyncSession) -> None:
    for headers in (
        {"Authorization": "Bearer not-the-platform-token-at-all"},
        {"Authorization": "platform-admin-token-for-tests"},
        {},
    ):
        response = await client.post("/api/platform/tenants", json=tenant_request("delta"), headers=headers)
        assert_problem(response, 401, "unauthenticated")
    await bind_tenant(db, None)
    assert (await db.execute(text("SELECT id FROM sys_tenant_by_slug('delta')"))).first() is None


async def test_platform_refuses_an_api_key(client: httpx.AsyncClient, world_a: World) -> None:
    response = await client.post("/api/platform/tenants", json=tenant_request("echo"), headers=world_a.headers())
    assert_problem(response, 401, "unauthenticated")


async def test_platform_duplicate_slug_is_409(client: httpx.AsyncClient, world_a: World) -> None:
    response = await client.post("/api/platform/tenants", json=tenant_request("alpha"), headers=PLATFORM_HEADERS)
    assert "alpha" in assert_problem(response, 409, "conflict")["detail"]
    ok(await client.post("/api/platform/tenants", json=tenant_request("foxtrot"), headers=PLATFORM_HEADERS), 201)
    again = await client.post("/api/platform/tenants", json=tenant_request("foxtrot"), headers=PLATFORM_HEADERS)
    assert_problem(again, 409, "conflict")
    # The first tenant is untouched by the refused duplicate.
    assert ok(await client.get("/api/v1/tenant", headers=world_a.headers()))["name"] == "Alpha Spaces"


async def test_platform_rejects_an_invalid_tenant(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/platform/tenants",
        json={**tenant_request("Bad Slug!"), "default_currency": "ABC"},
        headers=PLATFORM_HEADERS,
    )
    assert_problem(response, 400)
