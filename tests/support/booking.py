"""Bookable resources and bookings through the API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import ok
from tests.support.worlds import World


async def room(client: httpx.AsyncClient, world: World, **extra: Any) -> dict[str, Any]:
    body = {"location_id": str(world.location.id), "name": "Boardroom", "hourly_rate": 3000, **extra}
    made: dict[str, Any] = ok(await client.post("/api/v1/resources", json=body, headers=world.headers()), 201)
    return made


async def book(
    client: httpx.AsyncClient, world: World, resource: dict[str, Any], starts: str, ends: str, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/bookings", json=booking_body(world, resource, starts, ends, **extra), headers=world.headers()
    )
    made: dict[str, Any] = ok(response, 201)
    return made


def booking_body(world: World, resource: dict[str, Any], starts: str, ends: str, **extra: Any) -> dict[str, Any]:
    return {
        "resource_id": resource["id"],
        "company_id": str(world.company.id),
        "starts_at": starts,
        "ends_at": ends,
        **extra,
    }
