"""Bad input never gives a 500 and never writes: every case below must answer a 4xx problem+json that
says what is wrong, and leave the tenant's locations, members, outbox and job queue as they were."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import bind_tenant
from app.email.models import Email
from app.location.models import Location
from app.member.models import Member
from app.settings import Settings
from app.state import AppState
from tests.support.worlds import World, location_body

Body = Callable[[World, Settings], object]


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str  # "{location}" stands for the world's own location id
    body: Body | None
    status: int | tuple[int, ...]
    says: str  # a regex the detail or the errors must match: the message names what is wrong

    @property
    def statuses(self) -> tuple[int, ...]:
        return self.status if isinstance(self.status, tuple) else (self.status,)


class Raw(bytes):
    """A body sent as-is (with content-type application/json) instead of being JSON-encoded."""


def member(world: World, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"email": "newcomer@alpha.test", "name": "Newcomer", "location_id": str(world.location.id)}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


def oversized(settings: Settings) -> str:
    return "x" * (settings.request_max_body_bytes + 1)


LOCATIONS = "/api/v1/locations"
MEMBERS = "/api/v1/members"
ONE_LOCATION = "/api/v1/locations/{location}"
MALFORMED = Raw(b"{not json")

CREATE_LOCATION = [
    Case("malformed-json", "POST", LOCATIONS, lambda w, s: MALFORMED, 400, r"malformed"),
    Case("empty-body", "POST", LOCATIONS, lambda w, s: Raw(b""), 400, r"body|empty|required"),
    Case("json-array", "POST", LOCATIONS, lambda w, s: [location_body()], 400, r"object"),
    Case("json-null", "POST", LOCATIONS, lambda w, s: Raw(b"null"), 400, r"object"),
    Case("billing-day-string", "POST", LOCATIONS, lambda w, s: location_body(billing_day="x"), 400, r"billing_day"),
    Case("billing-day-float", "POST", LOCATIONS, lambda w, s: location_body(billing_day=1.5), 400, r"billing_day"),
    Case("name-number", "POST", LOCATIONS, lambda w, s: location_body(name=5), 400, r"name"),
    Case("name-null", "POST", LOCATIONS, lambda w, s: location_body(name=None), 400, r"name"),
    Case("name-empty", "POST", LOCATIONS, lambda w, s: location_body(name=""), 400, r"name"),
    Case("name-too-long", "POST", LOCATIONS, lambda w, s: location_body(name="n" * 201), 400, r"name"),
    Case("name-nul-byte", "POST", LOCATIONS, lambda w, s: location_body(name="North\x00"), (400, 422), r"name"),
    Case("unknown-field", "POST", LOCATIONS, lambda w, s: location_body(colour="red"), 400, r"colour"),
    Case("missing-fields", "POST", LOCATIONS, lambda w, s: {"name": "North"}, 400, r"missing required field"),
    Case("missing-tax-mode", "POST", LOCATIONS, lambda w, s: location_body(tax_mode=...), 400, r"tax_mode"),
    Case("empty-object", "POST", LOCATIONS, lambda w, s: {}, 400, r"missing required field"),
    Case("billing-day-0", "POST", LOCATIONS, lambda w, s: location_body(billing_day=0), 400, r"billing_day.*>= ?1"),
    Case("billing-day-29", "POST", LOCATIONS, lambda w, s: location_body(billing_day=29), 400, r"billing_day.*<= ?28"),
    Case("tax-mode-sideways", "POST", LOCATIONS, lambda w, s: location_body(tax_mode="sideways"), 400, r"sideways"),
    Case("country-xx", "POST", LOCATIONS, lambda w, s: location_body(country="XX"), 400, r"'XX'.*country"),
    Case("country-lower", "POST", LOCATIONS, lambda w, s: location_body(country="gb"), 400, r"country"),
    Case("currency-abc", "POST", LOCATIONS, lambda w, s: location_body(currency="ABC"), 400, r"'ABC'.*currency"),
    Case(
        "time-zone-mars", "POST", LOCATIONS, lambda w, s: location_body(time_zone="Mars/Base"), 400, r"Mars/Base.*zone"
    ),
    Case("code-lower-case", "POST", LOCATIONS, lambda w, s: location_body(code="nth"), 400, r"code"),
    Case("code-taken", "POST", LOCATIONS, lambda w, s: location_body(code="MAIN"), 409, r"code"),
    Case("oversized", "POST", LOCATIONS, lambda w, s: location_body(address=oversized(s)), 413, r"too large"),
]

CREATE_MEMBER = [
    Case("malformed-json", "POST", MEMBERS, lambda w, s: MALFORMED, 400, r"malformed"),
    Case("empty-body", "POST", MEMBERS, lambda w, s: Raw(b""), 400, r"body|empty|required"),
    Case("name-number", "POST", MEMBERS, lambda w, s: member(w, name=5), 400, r"name"),
    Case("name-nul-byte", "POST", MEMBERS, lambda w, s: member(w, name="New\x00comer"), (400, 422), r"name"),
    Case("location-not-uuid", "POST", MEMBERS, lambda w, s: member(w, location_id="nope"), 400, r"location_id"),
    Case("send-welcome-string", "POST", MEMBERS, lambda w, s: member(w, send_welcome="yes"), 400, r"send_welcome"),
    Case("unknown-field", "POST", MEMBERS, lambda w, s: member(w, colour="red"), 400, r"colour"),
    Case("missing-fields", "POST", MEMBERS, lambda w, s: {"email": "a@alpha.test"}, 400, r"missing required field"),
    Case("missing-location", "POST", MEMBERS, lambda w, s: member(w, location_id=...), 400, r"location_id"),
    Case("email-nul-byte", "POST", MEMBERS, lambda w, s: member(w, email="a\x00b@alpha.test"), (400, 422), r"email"),
    Case("email-invalid", "POST", MEMBERS, lambda w, s: member(w, email="not-an-email"), 400, r"email"),
    Case("phone-invalid", "POST", MEMBERS, lambda w, s: member(w, phone="call me"), 400, r"phone"),
    Case("password-short", "POST", MEMBERS, lambda w, s: member(w, password="short"), 400, r"password"),
    Case(
        "location-unknown",
        "POST",
        MEMBERS,
        lambda w, s: member(w, location_id=str(uuid.uuid4())),
        404,
        r"location .* does not exist",
    ),
    Case("email-taken", "POST", MEMBERS, lambda w, s: member(w, email="Member@Alpha.test"), 409, r"already exists"),
    Case("oversized", "POST", MEMBERS, lambda w, s: member(w, name=oversized(s)), 413, r"too large"),
]

UPDATE_LOCATION = [
    Case("malformed-json", "PATCH", ONE_LOCATION, lambda w, s: MALFORMED, 400, r"malformed"),
    Case("json-array", "PATCH", ONE_LOCATION, lambda w, s: [{"name": "Changed"}], 400, r"object"),
    Case(
        "billing-day-string",
        "PATCH",
        ONE_LOCATION,
        lambda w, s: {"name": "Changed", "billing_day": "x"},
        400,
        r"billing_day",
    ),
    Case("name-number", "PATCH", ONE_LOCATION, lambda w, s: {"name": 5, "billing_day": 7}, 400, r"name"),
    Case("name-null", "PATCH", ONE_LOCATION, lambda w, s: {"name": None, "billing_day": 7}, 400, r"name"),
    Case("name-nul-byte", "PATCH", ONE_LOCATION, lambda w, s: {"name": "Main\x00"}, (400, 422), r"name"),
    Case("unknown-field", "PATCH", ONE_LOCATION, lambda w, s: {"name": "Changed", "colour": "red"}, 400, r"colour"),
    Case(
        "billing-day-0",
        "PATCH",
        ONE_LOCATION,
        lambda w, s: {"name": "Changed", "billing_day": 0},
        400,
        r"billing_day.*>= ?1",
    ),
    Case(
        "billing-day-29",
        "PATCH",
        ONE_LOCATION,
        lambda w, s: {"name": "Changed", "billing_day": 29},
        400,
        r"billing_day.*<= ?28",
    ),
    Case(
        "tax-mode-sideways",
        "PATCH",
        ONE_LOCATION,
        lambda w, s: {"name": "Changed", "tax_mode": "sideways"},
        400,
        r"sideways",
    ),
    Case("country-xx", "PATCH", ONE_LOCATION, lambda w, s: {"name": "Changed", "country": "XX"}, 400, r"'XX'.*country"),
    Case(
        "currency-abc",
        "PATCH",
        ONE_LOCATION,
        lambda w, s: {"name": "Changed", "currency": "ABC"},
        400,
        r"'ABC'.*currency",
    ),
    Case("currency-null", "PATCH", ONE_LOCATION, lambda w, s: {"name": "Changed", "currency": None}, 400, r"currency"),
    Case(
        "time-zone-mars",
        "PATCH",
        ONE_LOCATION,
        lambda w, s: {"name": "Changed", "time_zone": "Mars/Base"},
        400,
        r"Mars/Base.*zone",
    ),
    Case("oversized", "PATCH", ONE_LOCATION, lambda w, s: {"address": oversized(s)}, 413, r"too large"),
    Case("id-not-uuid", "PATCH", f"{LOCATIONS}/not-a-uuid", lambda w, s: {"name": "Changed"}, 404, r"no such"),
    Case(
        "id-unknown", "PATCH", f"{LOCATIONS}/{uuid.uuid4()}", lambda w, s: {"name": "Changed"}, 404, r"no such location"
    ),
    Case("deactivate-not-uuid", "POST", f"{LOCATIONS}/not-a-uuid/deactivate", None, 404, r"no such"),
    Case("deactivate-unknown", "POST", f"{LOCATIONS}/{uuid.uuid4()}/deactivate", None, 404, r"no such location"),
]

LIST_QUERIES = [
    Case(f"{name}-{label}", "GET", f"{path}?{query}", None, status, says)
    for name, path in (("locations", LOCATIONS), ("members", MEMBERS))
    for label, query, status, says in (
        # The limits are declared in the OpenAPI document, so the schema check refuses them (400).
        ("cursor-garbage", "cursor=!!!", 400, r"cursor"),
        ("cursor-short", "cursor=AAAA", 400, r"cursor"),
        ("limit-0", "limit=0", 400, r"limit.*>= 1"),
        ("limit-1000", "limit=1000", 400, r"limit.*<= 200"),
        ("limit-negative", "limit=-1", 400, r"limit.*>= 1"),
        ("limit-text", "limit=ten", 400, r"limit"),
    )
] + [
    Case("members-location-not-uuid", "GET", f"{MEMBERS}?location_id=nope", None, 400, r"location_id"),
    Case("location-get-not-uuid", "GET", f"{LOCATIONS}/not-a-uuid", None, 404, r"no such"),
    Case("location-get-unknown", "GET", f"{LOCATIONS}/{uuid.uuid4()}", None, 404, r"no such location"),
]


async def _send(client: httpx.AsyncClient, world: World, settings: Settings, case: Case) -> httpx.Response:
    path = case.path.format(location=world.location.id)
    body = case.body(world, settings) if case.body is not None else None
    headers = world.headers()
    if isinstance(body, Raw):
        return await client.request(
            case.method, path, content=bytes(body), headers={**headers, "Content-Type": "application/json"}
        )
    if body is None:
        return await client.request(case.method, path, headers=headers)
    return await client.request(case.method, path, json=body, headers=headers)


async def _snapshot(client: httpx.AsyncClient, db: AsyncSession, state: AppState, world: World) -> dict[str, Any]:
    """Everything bad input could have written: row counts, every field of every location and member
    the tenant has, its outbox, and the job queue."""
    await bind_tenant(db, world.tenant_id)
    counts = {
        model.__tablename__: (await db.execute(select(func.count()).select_from(model))).scalar_one()
        for model in (Location, Member, Email)
    }
    locations = await client.get(LOCATIONS, params={"limit": 200}, headers=world.headers())
    members = await client.get(MEMBERS, params={"limit": 200}, headers=world.headers())
    assert locations.status_code == 200, locations.text
    assert members.status_code == 200, members.text
    return {
        "counts": counts,
        "locations": locations.json(),
        "members": members.json(),
        "jobs": len(await state.redis.queued_jobs(queue_name=state.settings.worker_queue_name)),
    }


def _message(body: dict[str, Any]) -> str:
    parts = [str(body.get("detail", ""))]
    for error in body.get("errors") or []:
        parts.append(f"{error.get('key', '')}: {error.get('message', '')}")
    return " | ".join(parts)


@pytest.mark.parametrize(
    "case",
    CREATE_LOCATION + CREATE_MEMBER + UPDATE_LOCATION + LIST_QUERIES,
    ids=lambda case: f"{case.path.split('/')[3].split('?')[0]}-{case.method}-{case.id}",
)
async def test_bad_input_is_refused_clearly_and_writes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, state: AppState, world_a: World, case: Case
) -> None:
    before = await _snapshot(client, db, state, world_a)
    assert before["counts"] == {"locations": 1, "members": 1, "emails": 0}

    response = await _send(client, world_a, state.settings, case)

    assert response.status_code != 500, f"bad input caused a server error: {response.text}"
    assert response.status_code in case.statuses, (
        f"expected {case.statuses}, got {response.status_code}: {response.text}"
    )
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert isinstance(body.get("code"), str)
    assert body["code"]
    message = _message(body)
    assert re.search(case.says, message, re.IGNORECASE | re.DOTALL), (
        f"the answer does not say what is wrong (wanted /{case.says}/): {message}"
    )
    assert await _snapshot(client, db, state, world_a) == before


async def test_the_same_requests_made_valid_do_write(
    client: httpx.AsyncClient, db: AsyncSession, state: AppState, world_a: World
) -> None:
    """The control for the cases above: the baseline bodies are accepted, so the refusals are about
    the one thing each case breaks."""
    before = await _snapshot(client, db, state, world_a)
    created = await client.post(LOCATIONS, json=location_body(), headers=world_a.headers())
    assert created.status_code == 201, created.text
    joined = await client.post(MEMBERS, json=member(world_a), headers=world_a.headers())
    assert joined.status_code == 201, joined.text
    # A location with no invoices yet: its billing day may still change.
    patched = await client.patch(
        f"{LOCATIONS}/{created.json()['id']}", json={"name": "Changed", "billing_day": 7}, headers=world_a.headers()
    )
    assert patched.status_code == 200, patched.text
    after = await _snapshot(client, db, state, world_a)
    assert after["counts"] == {"locations": 2, "members": 2, "emails": 1}
    assert after["jobs"] == before["jobs"] + 1
    main = next(item for item in after["locations"]["data"] if item["id"] == created.json()["id"])
    assert (main["name"], main["billing_day"]) == ("Changed", 7)
