"""API keys: shown once, scoped, revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.location.models import Location
from tests.support.api import (
    API_KEY_FIELDS,
    assert_problem,
    count,
    create_key,
    ok,
    site_body,
)
from tests.support.worlds import World


async def test_create_api_key_shows_the_secret_once(client: httpx.AsyncClient, world_a: World) -> None:
    created = await create_key(client, world_a, ["settings:read", "locations:read", "locations:read"])
    assert set(created) == {"api_key", "key"}
    secret = created["key"]
    meta = created["api_key"]
    assert set(meta) == API_KEY_FIELDS
    assert secret.startswith(f"flk_{meta['prefix']}_")
    assert meta["scopes"] == ["locations:read", "settings:read"]
    assert meta["created_by_user_id"] is None
    assert meta["revoked_at"] is None
    hidden = secret.removeprefix(f"flk_{meta['prefix']}_")  # the secret part may itself hold "_"
    assert len(hidden) == 43  # 32 random bytes, URL-safe base64

    listed = await client.get("/api/v1/api-keys", headers=world_a.headers())
    page = ok(listed)
    assert meta["id"] in {item["id"] for item in page["data"]}
    assert all(set(item) == API_KEY_FIELDS for item in page["data"])
    assert hidden not in listed.text
    assert "digest" not in listed.text

    fetched = await client.get(f"/api/v1/api-keys/{meta['id']}", headers=world_a.headers())
    assert set(ok(fetched)) == API_KEY_FIELDS
    assert ok(fetched)["id"] == meta["id"]
    assert hidden not in fetched.text
    assert "digest" not in fetched.text
    assert '"key"' not in fetched.text


async def test_a_new_key_works_until_revoked(client: httpx.AsyncClient, world_a: World) -> None:
    created = await create_key(client, world_a, ["settings:read"])
    secret = created["key"]
    tenant = ok(await client.get("/api/v1/tenant", headers=world_a.headers(secret)))
    assert tenant["id"] == str(world_a.tenant_id)

    revoked = ok(await client.post(f"/api/v1/api-keys/{created['api_key']['id']}/revoke", headers=world_a.headers()))
    assert revoked["revoked_at"] is not None
    assert_problem(await client.get("/api/v1/tenant", headers=world_a.headers(secret)), 401, "unauthenticated")

    again = ok(await client.post(f"/api/v1/api-keys/{created['api_key']['id']}/revoke", headers=world_a.headers()))
    assert again["revoked_at"] == revoked["revoked_at"]


async def test_a_key_with_a_wrong_secret_is_refused(client: httpx.AsyncClient, world_a: World) -> None:
    created = await create_key(client, world_a, ["settings:read"])
    forged = f"flk_{created['api_key']['prefix']}_not-the-secret"
    assert_problem(await client.get("/api/v1/tenant", headers=world_a.headers(forged)), 401, "unauthenticated")


async def test_a_read_only_key_cannot_write_or_read_elsewhere(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    secret = (await create_key(client, world_a, ["locations:read"]))["key"]
    assert ok(await client.get("/api/v1/locations", headers=world_a.headers(secret)))["data"]
    before = await count(db, world_a.tenant_id, Location)
    denied = await client.post("/api/v1/locations", json=site_body("RO"), headers=world_a.headers(secret))
    assert "locations:write" in assert_problem(denied, 403, "forbidden")["detail"]
    assert await count(db, world_a.tenant_id, Location) == before
    members = await client.get("/api/v1/members", headers=world_a.headers(secret))
    assert "members:read" in assert_problem(members, 403, "forbidden")["detail"]


async def test_a_key_cannot_mint_a_key_with_more_rights(client: httpx.AsyncClient, world_a: World) -> None:
    limited = (await create_key(client, world_a, ["api_keys:read", "api_keys:write", "locations:read"]))["key"]
    response = await client.post(
        "/api/v1/api-keys",
        json={"name": "wider", "scopes": ["locations:read", "settings:write"]},
        headers=world_a.headers(limited),
    )
    assert "settings:write" in assert_problem(response, 403, "forbidden")["detail"]
    narrower = await client.post(
        "/api/v1/api-keys", json={"name": "narrower", "scopes": ["locations:read"]}, headers=world_a.headers(limited)
    )
    assert ok(narrower, 201)["api_key"]["scopes"] == ["locations:read"]


async def test_unknown_scope_is_400(client: httpx.AsyncClient, world_a: World) -> None:
    response = await client.post(
        "/api/v1/api-keys",
        json={"name": "odd", "scopes": ["locations:read", "rockets:launch"]},
        headers=world_a.headers(),
    )
    body = assert_problem(response, 400)
    assert "rockets:launch" in str(body.get("errors"))


async def test_expiry_in_the_past_is_422(client: httpx.AsyncClient, world_a: World) -> None:
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    response = await client.post(
        "/api/v1/api-keys",
        json={"name": "old", "scopes": ["settings:read"], "expires_at": past},
        headers=world_a.headers(),
    )
    assert "expires_at" in assert_problem(response, 422, "invalid_input")["detail"]


async def test_expiry_in_the_future_is_kept(client: httpx.AsyncClient, world_a: World) -> None:
    future = datetime.now(UTC) + timedelta(days=30)
    response = await client.post(
        "/api/v1/api-keys",
        json={"name": "soon", "scopes": ["settings:read"], "expires_at": future.isoformat()},
        headers=world_a.headers(),
    )
    created = ok(response, 201)
    assert datetime.fromisoformat(created["api_key"]["expires_at"]) == future
    assert ok(await client.get("/api/v1/tenant", headers=world_a.headers(created["key"])))["slug"] == world_a.slug


async def test_another_tenants_key_id_is_404(client: httpx.AsyncClient, world_a: World, world_b: World) -> None:
    response = await client.post(f"/api/v1/api-keys/{world_b.spare_key.id}/revoke", headers=world_a.headers())
    assert_problem(response, 404, "not_found")
