"""The tenant's own settings through the operator API."""

from __future__ import annotations

import httpx

from tests.support.api import (
    assert_problem,
    create_key,
    ok,
)
from tests.support.worlds import World


async def test_get_tenant(client: httpx.AsyncClient, world_a: World) -> None:
    tenant = ok(await client.get("/api/v1/tenant", headers=world_a.headers()))
    assert tenant["id"] == str(world_a.tenant_id)
    assert tenant["slug"] == "alpha"
    assert tenant["name"] == "Alpha Spaces"
    assert tenant["status"] == "active"
    assert tenant["default_currency"] == "GBP"
    assert tenant["default_country"] == "GB"
    assert tenant["default_time_zone"] == "Europe/London"


async def test_patch_tenant_name_and_currency(client: httpx.AsyncClient, world_a: World) -> None:
    before = ok(await client.get("/api/v1/tenant", headers=world_a.headers()))
    after = ok(
        await client.patch(
            "/api/v1/tenant", json={"name": "Alpha Works", "default_currency": "EUR"}, headers=world_a.headers()
        )
    )
    assert after["name"] == "Alpha Works"
    assert after["default_currency"] == "EUR"
    for field in ("slug", "status", "default_country", "default_time_zone", "support_email", "created_at"):
        assert after[field] == before[field], field
    assert ok(await client.get("/api/v1/tenant", headers=world_a.headers())) == after


async def test_patch_tenant_with_an_invalid_currency_is_400(client: httpx.AsyncClient, world_a: World) -> None:
    before = ok(await client.get("/api/v1/tenant", headers=world_a.headers()))
    response = await client.patch(
        "/api/v1/tenant", json={"name": "Should Not Stick", "default_currency": "ABC"}, headers=world_a.headers()
    )
    body = assert_problem(response, 400)
    assert "ABC" in str(body.get("errors"))
    assert ok(await client.get("/api/v1/tenant", headers=world_a.headers())) == before


async def test_a_key_without_settings_write_cannot_patch_the_tenant(client: httpx.AsyncClient, world_a: World) -> None:
    secret = (await create_key(client, world_a, ["settings:read"]))["key"]
    response = await client.patch("/api/v1/tenant", json={"name": "Nope"}, headers=world_a.headers(secret))
    assert_problem(response, 403, "forbidden")
