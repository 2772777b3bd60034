"""Locations through the operator API."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.location.models import Location
from tests.support.api import (
    LOCATION_FIELDS,
    assert_problem,
    count,
    create_location,
    ok,
    site_body,
)
from tests.support.worlds import World


async def test_create_location_echoes_its_fields(client: httpx.AsyncClient, world_a: World) -> None:
    sent = site_body("PAR")
    created = ok(await client.post("/api/v1/locations", json=sent, headers=world_a.headers()), 201)
    assert set(created) == LOCATION_FIELDS
    assert {key: created[key] for key in sent} == sent
    assert created["invoice_number_template"] == "PAR-{number:06}"
    assert created["credit_note_number_template"] == "PAR-CN-{number:06}"
    assert created["active"] is True
    uuid.UUID(created["id"])
    assert created["created_at"] == created["updated_at"]


async def test_create_location_applies_defaults(client: httpx.AsyncClient, world_a: World) -> None:
    sent = site_body("DEF")
    del sent["billing_day"], sent["address"]
    created = ok(await client.post("/api/v1/locations", json=sent, headers=world_a.headers()), 201)
    assert created["billing_day"] == 1
    assert created["address"] is None


async def test_get_location(client: httpx.AsyncClient, world_a: World) -> None:
    created = await create_location(client, world_a, "GET")
    fetched = ok(await client.get(f"/api/v1/locations/{created['id']}", headers=world_a.headers()))
    assert fetched == created
    main = ok(await client.get(f"/api/v1/locations/{world_a.location.id}", headers=world_a.headers()))
    assert main["code"] == "MAIN"
    assert main["name"] == "Main"


async def test_get_unknown_location_is_404(client: httpx.AsyncClient, world_a: World) -> None:
    response = await client.get(f"/api/v1/locations/{uuid.uuid4()}", headers=world_a.headers())
    assert_problem(response, 404, "not_found")


async def test_another_tenants_location_is_404(client: httpx.AsyncClient, world_a: World, world_b: World) -> None:
    response = await client.get(f"/api/v1/locations/{world_b.location.id}", headers=world_a.headers())
    assert_problem(response, 404, "not_found")


async def test_list_locations_pages_through_every_row_once_in_order(
    client: httpx.AsyncClient, world_a: World, world_b: World
) -> None:
    created = [(await create_location(client, world_a, f"P{n}"))["id"] for n in range(5)]
    await create_location(client, world_b, "BOTHER")
    expected = sorted([*created, str(world_a.location.id)], key=uuid.UUID)

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = ok(await client.get("/api/v1/locations", params=params, headers=world_a.headers()))
        assert set(page) == {"data", "next_cursor"}
        assert len(page["data"]) <= 2
        assert all(set(item) == LOCATION_FIELDS for item in page["data"])
        seen += [item["id"] for item in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str)
        assert pages < 10, "pagination does not terminate"

    assert pages == 3
    assert seen == expected
    assert len(seen) == len(set(seen))
    assert str(world_b.location.id) not in seen


async def test_list_locations_default_page_holds_everything(client: httpx.AsyncClient, world_a: World) -> None:
    await create_location(client, world_a, "ONE")
    page = ok(await client.get("/api/v1/locations", headers=world_a.headers()))
    assert page["next_cursor"] is None
    assert {item["code"] for item in page["data"]} == {"MAIN", "ONE"}


async def test_patch_location_changes_only_the_fields_sent(client: httpx.AsyncClient, world_a: World) -> None:
    before = await create_location(client, world_a, "PAT")
    response = await client.patch(
        f"/api/v1/locations/{before['id']}", json={"name": "Renamed", "billing_day": 3}, headers=world_a.headers()
    )
    after = ok(response)
    assert after["name"] == "Renamed"
    assert after["billing_day"] == 3
    untouched = LOCATION_FIELDS - {"name", "billing_day", "updated_at"}
    assert {key: after[key] for key in untouched} == {key: before[key] for key in untouched}
    assert ok(await client.get(f"/api/v1/locations/{before['id']}", headers=world_a.headers())) == after


async def test_patch_location_can_clear_the_address(client: httpx.AsyncClient, world_a: World) -> None:
    before = await create_location(client, world_a, "ADR")
    assert before["address"] is not None
    after = ok(
        await client.patch(f"/api/v1/locations/{before['id']}", json={"address": None}, headers=world_a.headers())
    )
    assert after["address"] is None
    assert after["name"] == before["name"]


async def test_patch_location_with_an_empty_body_changes_nothing(client: httpx.AsyncClient, world_a: World) -> None:
    before = await create_location(client, world_a, "NOP")
    after = ok(await client.patch(f"/api/v1/locations/{before['id']}", json={}, headers=world_a.headers()))
    assert {key: after[key] for key in LOCATION_FIELDS - {"updated_at"}} == {
        key: before[key] for key in LOCATION_FIELDS - {"updated_at"}
    }


async def test_deactivate_and_reactivate_location(client: httpx.AsyncClient, world_a: World) -> None:
    location = await create_location(client, world_a, "ACT")
    url = f"/api/v1/locations/{location['id']}"
    deactivated = ok(await client.post(f"{url}/deactivate", headers=world_a.headers()))
    assert deactivated["active"] is False
    assert ok(await client.get(url, headers=world_a.headers()))["active"] is False
    # Deactivating twice is harmless.
    assert ok(await client.post(f"{url}/deactivate", headers=world_a.headers()))["active"] is False
    reactivated = ok(await client.post(f"{url}/reactivate", headers=world_a.headers()))
    assert reactivated["active"] is True
    assert ok(await client.get(url, headers=world_a.headers()))["active"] is True


async def test_duplicate_location_code_is_409(client: httpx.AsyncClient, db: AsyncSession, world_a: World) -> None:
    before = await count(db, world_a.tenant_id, Location)
    response = await client.post("/api/v1/locations", json=site_body("MAIN"), headers=world_a.headers())
    body = assert_problem(response, 409, "conflict")
    assert "code" in body["detail"]
    assert await count(db, world_a.tenant_id, Location) == before


async def test_patch_to_a_used_location_code_is_409(client: httpx.AsyncClient, world_a: World) -> None:
    other = await create_location(client, world_a, "OTH")
    response = await client.patch(
        f"/api/v1/locations/{other['id']}", json={"code": "MAIN", "name": "Clash"}, headers=world_a.headers()
    )
    assert_problem(response, 409, "conflict")
    assert ok(await client.get(f"/api/v1/locations/{other['id']}", headers=world_a.headers())) == other


async def test_location_codes_are_unique_per_tenant_only(
    client: httpx.AsyncClient, world_a: World, world_b: World
) -> None:
    created = await create_location(client, world_b, "MAIN2")
    assert created["code"] == "MAIN2"
    again = await create_location(client, world_a, "MAIN2")
    assert again["code"] == "MAIN2"
