"""Members through the operator API, and the welcome e-mail."""

from __future__ import annotations

import uuid

import httpx
from arq.jobs import Job, JobStatus
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import bind_tenant
from app.email.models import Email
from app.email.service import SEND_JOB, send_job_id
from app.kit.jobs import deserialize
from app.member.models import Member
from app.state import AppState
from tests.support.api import (
    assert_problem,
    count,
    create_location,
    create_member,
    ok,
)
from tests.support.worlds import World


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
