"""Calling the JSON API in tests: headers, answers checked for their status, common set-ups through it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import bind_tenant
from app.email.models import Email
from app.location.models import Location
from app.member.models import Member
from app.user.models import User
from tests.support.worlds import (
    World,
)

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


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The answer's JSON, once its status is the one expected (the body explains a failure) and it
    came as JSON: a problem document for a refusal."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    kind = "application/problem+json" if status >= 400 else "application/json"
    assert response.headers["content-type"].startswith(kind), response.headers
    return response.json()


def site_body(code: str, **overrides: Any) -> dict[str, Any]:
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
    made: dict[str, Any] = ok(
        await client.post("/api/v1/locations", json=site_body(code, **overrides), headers=world.headers()), 201
    )
    return made


async def create_member(
    client: httpx.AsyncClient, world: World, email: str, location_id: uuid.UUID | str, **extra: Any
) -> dict[str, Any]:
    body = {"email": email, "name": "New Member", "location_id": str(location_id), **extra}
    made: dict[str, Any] = ok(await client.post("/api/v1/members", json=body, headers=world.headers()), 201)
    return made


async def create_key(
    client: httpx.AsyncClient, world: World, scopes: list[str], key: str | None = None
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/api-keys", json={"name": f"key {scopes}", "scopes": scopes}, headers=world.headers(key)
    )
    made: dict[str, Any] = ok(response, 201)
    return made


async def count(db: AsyncSession, tenant_id: uuid.UUID, model: type[Location | Member | Email | User]) -> int:
    await bind_tenant(db, tenant_id)
    return (await db.execute(select(func.count()).select_from(model))).scalar_one()


def keyed(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` with a fresh Idempotency-Key, which money-moving requests must carry."""
    return {**headers, "Idempotency-Key": str(uuid.uuid4())}


async def revenue_account(client: httpx.AsyncClient, world: World, kind: str) -> dict[str, Any]:
    """The tenant's built-in revenue account of ``kind``, as the API shows it."""
    accounts = ok(await client.get("/api/v1/revenue-accounts", headers=world.headers()))["data"]
    found: dict[str, Any] = next(account for account in accounts if account["kind"] == kind)
    return found


async def tax_account(client: httpx.AsyncClient, world: World, kind: str, tax_rate_id: str | None = None) -> None:
    """Give a built-in revenue account a tax rate (the world's VAT unless another is named)."""
    account = await revenue_account(client, world, kind)
    body = {"tax_rate_id": tax_rate_id or str(world.tax_rate.id)}
    ok(await client.patch(f"/api/v1/revenue-accounts/{account['id']}", json=body, headers=world.headers()))


async def issue(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """The world's invoice (the fixture's November draft), issued through the API."""
    issued: dict[str, Any] = ok(
        await client.post(f"/api/v1/invoices/{world.invoice.id}/issue", headers=world.headers())
    )
    return issued
