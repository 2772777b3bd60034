"""The operator JSON API, exercised the way an operator's integration would use it."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus
from litestar import Litestar
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import ROLE_SCOPES, SCOPES
from app.db.engine import bind_tenant
from app.email.models import Email
from app.email.service import SEND_JOB, send_job_id
from app.kit.errors import Conflict
from app.kit.jobs import JobQueue, deserialize
from app.location.models import Location
from app.member.models import Member
from app.state import STATE_KEY, AppState
from app.tenant.models import Tenant
from app.user import service as user_service
from app.user.models import User
from app.user.schemas import UserUpdate
from tests.conftest import PASSWORD, World

PLATFORM_HEADERS = {"Authorization": "Bearer platform-admin-token-for-tests"}
LOCATION_FIELDS = {
    "id",
    "invoice_number_template",
    "credit_note_number_template",
    "name",
    "code",
    "time_zone",
    "country",
    "currency",
    "tax_mode",
    "billing_day",
    "address",
    "active",
    "created_at",
    "updated_at",
}
API_KEY_FIELDS = {
    "id",
    "name",
    "prefix",
    "scopes",
    "created_by_user_id",
    "expires_at",
    "last_used_at",
    "revoked_at",
    "created_at",
}


# --- helpers -------------------------------------------------------------------------------------


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """An error answer: the expected status, RFC 9457 problem+json, a stable ``code`` and a ``detail``."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("code"), str), body
    assert body["code"], body
    if code is not None:
        assert body["code"] == code, body
    assert body["status"] == status, body
    assert isinstance(body.get("detail"), str), body
    assert body["detail"], body
    return body


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    return body


def location_body(code: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"Site {code}",
        "code": code,
        "time_zone": "Europe/Paris",
        "country": "FR",
        "currency": "EUR",
        "tax_mode": "inclusive",
        "billing_day": 15,
        "address": "1 Rue de Rivoli, Paris",
    }
    body.update(overrides)
    return body


async def create_location(client: httpx.AsyncClient, world: World, code: str, **overrides: Any) -> dict[str, Any]:
    return ok(
        await client.post("/api/v1/locations", json=location_body(code, **overrides), headers=world.headers()), 201
    )


async def create_member(
    client: httpx.AsyncClient, world: World, email: str, location_id: uuid.UUID | str, **extra: Any
) -> dict[str, Any]:
    body = {"email": email, "name": "New Member", "location_id": str(location_id), **extra}
    return ok(await client.post("/api/v1/members", json=body, headers=world.headers()), 201)


async def create_key(
    client: httpx.AsyncClient, world: World, scopes: list[str], key: str | None = None
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/api-keys", json={"name": f"key {scopes}", "scopes": scopes}, headers=world.headers(key)
    )
    return ok(response, 201)


async def count(db: AsyncSession, tenant_id: uuid.UUID, model: type[Location | Member | Email | User]) -> int:
    await bind_tenant(db, tenant_id)
    return (await db.execute(select(func.count()).select_from(model))).scalar_one()


# --- locations -----------------------------------------------------------------------------------


async def test_create_location_echoes_its_fields(client: httpx.AsyncClient, world_a: World) -> None:
    sent = location_body("PAR")
    created = ok(await client.post("/api/v1/locations", json=sent, headers=world_a.headers()), 201)
    assert set(created) == LOCATION_FIELDS
    assert {key: created[key] for key in sent} == sent
    assert created["invoice_number_template"] == "PAR-{number:06}"
    assert created["credit_note_number_template"] == "PAR-CN-{number:06}"
    assert created["active"] is True
    uuid.UUID(created["id"])
    assert created["created_at"] == created["updated_at"]


async def test_create_location_applies_defaults(client: httpx.AsyncClient, world_a: World) -> None:
    sent = location_body("DEF")
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
    response = await client.post("/api/v1/locations", json=location_body("MAIN"), headers=world_a.headers())
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


# --- users ---------------------------------------------------------------------------------------


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


# --- members -------------------------------------------------------------------------------------


async def test_create_member_queues_a_welcome_email_and_a_send_job(
    client: httpx.AsyncClient, db: AsyncSession, state: AppState, world_a: World
) -> None:
    created = await create_member(client, world_a, "New.Person@Alpha.test", world_a.location.id, name="New Person")
    assert created["email"] == "new.person@alpha.test"
    assert created["name"] == "New Person"
    assert created["location_id"] == str(world_a.location.id)
    assert created["active"] is True
    assert "password_hash" not in created

    await bind_tenant(db, world_a.tenant_id)
    emails = (await db.execute(select(Email).where(Email.to_address == "new.person@alpha.test"))).scalars().all()
    assert len(emails) == 1
    email = emails[0]
    assert email.tenant_id == world_a.tenant_id
    assert email.status == "queued"
    assert email.attempts == 0
    assert "Welcome" in email.subject
    assert "New Person" in email.text_body
    assert "/portal/login" in email.text_body

    job_id = send_job_id(email.id)
    assert await state.redis.exists(f"arq:job:{job_id}") == 1
    job = Job(job_id, state.redis, _queue_name=state.settings.worker_queue_name, _deserializer=deserialize)
    assert await job.status() == JobStatus.queued
    info = await job.info()
    assert info is not None
    assert info.function == SEND_JOB
    assert tuple(info.args) == (str(world_a.tenant_id), str(email.id))


async def test_create_member_without_welcome_sends_nothing(
    client: httpx.AsyncClient, db: AsyncSession, state: AppState, world_a: World
) -> None:
    await create_member(client, world_a, "quiet@alpha.test", world_a.location.id, send_welcome=False)
    assert await count(db, world_a.tenant_id, Email) == 0
    assert await state.redis.queued_jobs(queue_name=state.settings.worker_queue_name) == []


async def test_member_at_an_unknown_location_is_404_and_queues_nothing(
    client: httpx.AsyncClient, db: AsyncSession, state: AppState, world_a: World
) -> None:
    members_before = await count(db, world_a.tenant_id, Member)
    response = await client.post(
        "/api/v1/members",
        json={"email": "lost@alpha.test", "name": "Lost", "location_id": str(uuid.uuid4())},
        headers=world_a.headers(),
    )
    assert "does not exist" in assert_problem(response, 404, "not_found")["detail"]
    assert await count(db, world_a.tenant_id, Member) == members_before
    assert await count(db, world_a.tenant_id, Email) == 0
    assert await state.redis.queued_jobs(queue_name=state.settings.worker_queue_name) == []


async def test_member_at_another_tenants_location_is_404(
    client: httpx.AsyncClient, world_a: World, world_b: World
) -> None:
    response = await client.post(
        "/api/v1/members",
        json={"email": "sneaky@alpha.test", "name": "Sneaky", "location_id": str(world_b.location.id)},
        headers=world_a.headers(),
    )
    assert_problem(response, 404, "not_found")


async def test_member_at_a_deactivated_location_is_409(client: httpx.AsyncClient, world_a: World) -> None:
    closed = await create_location(client, world_a, "SHUT")
    ok(await client.post(f"/api/v1/locations/{closed['id']}/deactivate", headers=world_a.headers()))
    response = await client.post(
        "/api/v1/members",
        json={"email": "late@alpha.test", "name": "Late", "location_id": closed["id"]},
        headers=world_a.headers(),
    )
    assert "deactivated" in assert_problem(response, 409, "conflict")["detail"]


async def test_duplicate_member_email_is_409_whatever_its_case(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    before = await count(db, world_a.tenant_id, Member)
    response = await client.post(
        "/api/v1/members",
        json={"email": "MEMBER@alpha.test", "name": "Twin", "location_id": str(world_a.location.id)},
        headers=world_a.headers(),
    )
    assert_problem(response, 409, "conflict")
    assert await count(db, world_a.tenant_id, Member) == before
    assert await count(db, world_a.tenant_id, Email) == 0


async def test_update_member_email_to_one_in_use_is_409(client: httpx.AsyncClient, world_a: World) -> None:
    created = await create_member(client, world_a, "second@alpha.test", world_a.location.id)
    url = f"/api/v1/members/{created['id']}"
    for taken in ("member@alpha.test", "Member@Alpha.TEST"):
        response = await client.patch(url, json={"email": taken, "name": "Changed"}, headers=world_a.headers())
        assert_problem(response, 409, "conflict")
    assert ok(await client.get(url, headers=world_a.headers())) == created


async def test_update_member_changes_only_the_fields_sent(client: httpx.AsyncClient, world_a: World) -> None:
    created = await create_member(client, world_a, "third@alpha.test", world_a.location.id, phone="+44 20 7946 0000")
    url = f"/api/v1/members/{created['id']}"
    updated = ok(await client.patch(url, json={"name": "Renamed"}, headers=world_a.headers()))
    assert updated["name"] == "Renamed"
    assert updated["phone"] == "+44 20 7946 0000"
    assert updated["email"] == created["email"]
    cleared = ok(await client.patch(url, json={"phone": None}, headers=world_a.headers()))
    assert cleared["phone"] is None
    assert cleared["name"] == "Renamed"


async def test_list_members_filtered_by_location(client: httpx.AsyncClient, world_a: World, world_b: World) -> None:
    second = await create_location(client, world_a, "SEC")
    at_second = [
        (await create_member(client, world_a, f"s{n}@alpha.test", second["id"], send_welcome=False))["id"]
        for n in range(3)
    ]
    at_main = await create_member(client, world_a, "m2@alpha.test", world_a.location.id, send_welcome=False)

    filtered = ok(await client.get("/api/v1/members", params={"location_id": second["id"]}, headers=world_a.headers()))
    assert [item["id"] for item in filtered["data"]] == sorted(at_second, key=uuid.UUID)
    assert {item["location_id"] for item in filtered["data"]} == {second["id"]}
    assert filtered["next_cursor"] is None

    main = ok(
        await client.get("/api/v1/members", params={"location_id": str(world_a.location.id)}, headers=world_a.headers())
    )
    assert {item["id"] for item in main["data"]} == {str(world_a.member.id), at_main["id"]}

    everyone = ok(await client.get("/api/v1/members", headers=world_a.headers()))
    assert len(everyone["data"]) == 5

    paged = ok(
        await client.get("/api/v1/members", params={"location_id": second["id"], "limit": 2}, headers=world_a.headers())
    )
    assert len(paged["data"]) == 2
    rest = ok(
        await client.get(
            "/api/v1/members",
            params={"location_id": second["id"], "limit": 2, "cursor": paged["next_cursor"]},
            headers=world_a.headers(),
        )
    )
    assert [item["id"] for item in paged["data"] + rest["data"]] == sorted(at_second, key=uuid.UUID)
    assert rest["next_cursor"] is None

    foreign = ok(
        await client.get("/api/v1/members", params={"location_id": str(world_b.location.id)}, headers=world_a.headers())
    )
    assert foreign["data"] == []


# --- API keys ------------------------------------------------------------------------------------


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
    denied = await client.post("/api/v1/locations", json=location_body("RO"), headers=world_a.headers(secret))
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


# --- tenant settings -----------------------------------------------------------------------------


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


# --- platform ------------------------------------------------------------------------------------


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


# --- errors in general ---------------------------------------------------------------------------


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
