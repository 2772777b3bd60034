"""Console users through the operator API: roles, locations, owners."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import SCOPES
from app.db.engine import bind_tenant
from app.kit.errors import Conflict
from app.state import AppState
from app.user import service as user_service
from app.user.models import User
from app.user.schemas import UserUpdate
from tests.support.api import (
    assert_problem,
    count,
    ok,
)
from tests.support.worlds import PASSWORD, World


async def test_create_finance_user(client: httpx.AsyncClient, world_a: World) -> None:
    response = await client.post(
        "/api/v1/users",
        json={"email": "Finance@Alpha.test", "name": "Fin", "role": "finance", "password": PASSWORD},
        headers=world_a.headers(),
    )
    created = ok(response, 201)
    assert created["email"] == "finance@alpha.test"
    assert created["name"] == "Fin"
    assert created["role"] == "finance"
    assert created["active"] is True
    assert created["location_ids"] == []
    assert created["last_login_at"] is None
    assert "password" not in created
    assert "password_hash" not in created
    assert PASSWORD not in response.text
    fetched = ok(await client.get(f"/api/v1/users/{created['id']}", headers=world_a.headers()))
    assert fetched == created


async def test_duplicate_user_email_is_409(client: httpx.AsyncClient, world_a: World) -> None:
    response = await client.post(
        "/api/v1/users",
        json={"email": "STAFF@alpha.test", "name": "Again", "role": "finance"},
        headers=world_a.headers(),
    )
    assert_problem(response, 409, "conflict")


async def test_location_manager_needs_locations(client: httpx.AsyncClient, db: AsyncSession, world_a: World) -> None:
    before = await count(db, world_a.tenant_id, User)
    body: dict[str, Any] = {"email": "lm@alpha.test", "name": "LM", "role": "location_manager"}
    missing = await client.post("/api/v1/users", json=body, headers=world_a.headers())
    # The pairing of role and location_ids is part of the schema (the document states it): a 400.
    assert assert_problem(missing, 400, "invalid_request")["errors"][0]["key"] == "location_ids"
    empty = await client.post("/api/v1/users", json={**body, "location_ids": []}, headers=world_a.headers())
    assert_problem(empty, 400, "invalid_request")
    unknown = await client.post(
        "/api/v1/users", json={**body, "location_ids": [str(uuid.uuid4())]}, headers=world_a.headers()
    )
    assert_problem(unknown, 404, "not_found")
    assert await count(db, world_a.tenant_id, User) == before

    created = ok(
        await client.post(
            "/api/v1/users", json={**body, "location_ids": [str(world_a.location.id)]}, headers=world_a.headers()
        ),
        201,
    )
    assert created["role"] == "location_manager"
    assert created["location_ids"] == [str(world_a.location.id)]


async def test_location_ids_only_apply_to_location_managers(client: httpx.AsyncClient, world_a: World) -> None:
    response = await client.post(
        "/api/v1/users",
        json={"email": "f2@alpha.test", "name": "F", "role": "finance", "location_ids": [str(world_a.location.id)]},
        headers=world_a.headers(),
    )
    assert assert_problem(response, 400, "invalid_request")["errors"][0]["key"] == "location_ids"


async def test_location_manager_cannot_be_given_another_tenants_location(
    client: httpx.AsyncClient, world_a: World, world_b: World
) -> None:
    response = await client.post(
        "/api/v1/users",
        json={
            "email": "lm@alpha.test",
            "name": "LM",
            "role": "location_manager",
            "location_ids": [str(world_b.location.id)],
        },
        headers=world_a.headers(),
    )
    assert_problem(response, 404, "not_found")


async def key_no_owner_made(client: httpx.AsyncClient, world: World) -> str:
    """A full-scope key made through the API by another key: it acts for no owner."""
    created = ok(
        await client.post(
            "/api/v1/api-keys", json={"name": "integration", "scopes": sorted(SCOPES)}, headers=world.headers()
        ),
        201,
    )
    key: str = created["key"]
    return key


async def test_a_key_no_owner_made_cannot_create_an_owner(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    before = await count(db, world_a.tenant_id, User)
    response = await client.post(
        "/api/v1/users",
        json={"email": "boss@alpha.test", "name": "Boss", "role": "owner", "password": PASSWORD},
        headers=world_a.headers(await key_no_owner_made(client, world_a)),
    )
    assert_problem(response, 403, "forbidden")
    assert await count(db, world_a.tenant_id, User) == before


async def test_a_key_no_owner_made_cannot_demote_or_deactivate_an_owner(
    client: httpx.AsyncClient, world_a: World
) -> None:
    url = f"/api/v1/users/{world_a.owner.id}"
    headers = world_a.headers(await key_no_owner_made(client, world_a))
    assert_problem(await client.patch(url, json={"role": "admin"}, headers=headers), 403, "forbidden")
    assert_problem(await client.post(f"{url}/deactivate", headers=headers), 403, "forbidden")
    owner = ok(await client.get(url, headers=world_a.headers()))
    assert owner["role"] == "owner"
    assert owner["active"] is True


async def test_the_last_active_owner_cannot_be_deactivated(db: AsyncSession, state: AppState, world_a: World) -> None:
    await bind_tenant(db, world_a.tenant_id)
    with pytest.raises(Conflict, match="last active owner") as raised:
        await user_service.set_user_active(db, world_a.operator, world_a.owner.id, active=False)
    assert raised.value.status_code == 409
    owner = await user_service.get_user(db, world_a.operator, world_a.owner.id)
    assert owner.active is True


async def test_the_last_active_owner_cannot_be_demoted(db: AsyncSession, state: AppState, world_a: World) -> None:
    await bind_tenant(db, world_a.tenant_id)
    with pytest.raises(Conflict, match="last active owner") as raised:
        await user_service.update_user(
            db, world_a.operator, state.passwords, world_a.owner.id, UserUpdate(role="admin")
        )
    assert raised.value.status_code == 409
    owner = await user_service.get_user(db, world_a.operator, world_a.owner.id)
    assert owner.role == "owner"


async def test_an_owner_can_step_down_once_there_is_another_owner(
    db: AsyncSession, state: AppState, world_a: World
) -> None:
    await bind_tenant(db, world_a.tenant_id)
    operator = world_a.operator
    promoted = await user_service.update_user(db, operator, state.passwords, world_a.staff.id, UserUpdate(role="owner"))
    assert promoted.role == "owner"
    demoted = await user_service.update_user(db, operator, state.passwords, world_a.owner.id, UserUpdate(role="admin"))
    assert demoted.role == "admin"
    # Now the promoted user is the last active owner and is protected in turn.
    with pytest.raises(Conflict):
        await user_service.set_user_active(db, operator, world_a.staff.id, active=False)
