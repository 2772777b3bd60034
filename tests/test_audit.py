"""The audit trail and the billing lock date."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.capture import event_rows
from app.db.bulk import insert_together
from app.db.engine import bind_tenant
from app.invoice.models import Invoice
from app.kit.clock import local_today
from app.kit.ids import new_id
from app.state import AppState
from tests.support.api import keyed, ok
from tests.support.worlds import World


async def history(client: httpx.AsyncClient, world: World, object_id: str) -> list[dict[str, Any]]:
    page = ok(await client.get(f"/api/v1/audit-events?object_id={object_id}", headers=world.headers()))
    events: list[dict[str, Any]] = page["data"]
    return events


async def test_writes_are_recorded_with_who_and_what(client: httpx.AsyncClient, world_a: World) -> None:
    headers = world_a.headers()
    body = {
        "company_id": str(world_a.company.id),
        "plan_id": str(world_a.plan.id),
        "location_id": str(world_a.location.id),
        "start_date": "2027-01-01",
    }
    created = ok(await client.post("/api/v1/memberships", json=body, headers=headers), 201)
    ok(await client.patch(f"/api/v1/memberships/{created['id']}", json={"quantity": 3}, headers=headers))
    events = await history(client, world_a, created["id"])
    assert [(e["action"], e["object_type"]) for e in events] == [("create", "membership"), ("update", "membership")]
    assert events[0]["actor"].startswith("api_key:")
    assert events[0]["changes"]["start_date"] == "2027-01-01"
    assert events[1]["changes"] == {"quantity": [1, 3]}


async def test_a_void_keeps_its_reason(client: httpx.AsyncClient, world_a: World) -> None:
    url = f"/api/v1/invoices/{world_a.invoice.id}/void"
    ok(await client.post(url, json={"reason": "Billed to the wrong company"}, headers=world_a.headers()))
    [event] = [e for e in await history(client, world_a, str(world_a.invoice.id)) if e["action"] == "update"]
    assert event["changes"]["status"] == ["draft", "void"]
    assert event["reason"] == "Billed to the wrong company"


async def test_secrets_never_reach_the_trail(client: httpx.AsyncClient, world_a: World) -> None:
    body = {"email": "quiet@alpha.test", "name": "Quiet", "role": "finance", "password": "a-secret-password"}
    user = ok(await client.post("/api/v1/users", json=body, headers=world_a.headers()), 201)
    [event] = await history(client, world_a, user["id"])
    assert "password_hash" not in event["changes"]
    assert "argon2" not in str(event)


async def test_the_app_cannot_rewrite_the_trail(db: AsyncSession, world_a: World) -> None:
    await bind_tenant(db, world_a.tenant_id)
    for statement in ("UPDATE audit_events SET actor = 'nobody'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="permission denied"):
            async with db.begin_nested():
                await db.execute(text(statement))


async def test_the_lock_date_cannot_be_in_the_future(client: httpx.AsyncClient, world_a: World) -> None:
    refused = await client.patch("/api/v1/tenant", json={"lock_date": "2099-01-01"}, headers=world_a.headers())
    assert refused.status_code == 422
    assert "future" in refused.json()["detail"]


async def test_nothing_dated_in_a_locked_period_can_be_issued_or_changed(
    client: httpx.AsyncClient, db: AsyncSession, state: AppState, world_a: World
) -> None:
    headers = world_a.headers()
    issued = ok(await client.post(f"/api/v1/invoices/{world_a.invoice.id}/issue", headers=headers))
    today = local_today(state.clock, "Europe/London").isoformat()
    assert issued["issue_date"] == today
    ok(await client.patch("/api/v1/tenant", json={"lock_date": today}, headers=headers))

    voided = await client.post(f"/api/v1/invoices/{world_a.invoice.id}/void", json={}, headers=headers)
    assert voided.status_code == 409, voided.text
    assert voided.json()["code"] == "period_locked"
    assert f"locked through {today}" in voided.json()["detail"]

    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    december = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(headers)), 201)
    refused = await client.post(f"/api/v1/invoices/{december['invoices'][0]['id']}/issue", headers=headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "period_locked"

    # Any path, not just the API: the database itself refuses.
    await bind_tenant(db, world_a.tenant_id)
    with pytest.raises(DBAPIError, match="locked"):
        async with db.begin_nested():
            await db.execute(update(Invoice).where(Invoice.id == world_a.invoice.id).values(due_date=date(2030, 1, 1)))


async def test_tenant_creation_is_recorded_as_the_platform(client: httpx.AsyncClient) -> None:
    body = {
        "slug": "gamma",
        "name": "Gamma",
        "default_currency": "GBP",
        "default_country": "GB",
        "default_time_zone": "Europe/London",
        "owner": {"email": "o@gamma.test", "name": "O", "password": "gamma-owner-password"},
    }
    created = ok(
        await client.post(
            "/api/platform/tenants", json=body, headers={"Authorization": "Bearer platform-admin-token-for-tests"}
        ),
        201,
    )
    key = {"Authorization": f"Bearer {created['owner_api_key']['key']}"}
    page = ok(await client.get(f"/api/v1/audit-events?object_id={created['tenant']['id']}", headers=key))
    assert [(e["action"], e["actor"]) for e in page["data"]] == [("create", "platform")]


async def test_only_an_owner_reopens_closed_books(client: httpx.AsyncClient, state: AppState, world_a: World) -> None:
    today = local_today(state.clock, "Europe/London").isoformat()
    ok(await client.patch("/api/v1/tenant", json={"lock_date": today}, headers=world_a.headers()))
    created = await client.post(
        "/api/v1/api-keys",
        json={"name": "admin-like", "scopes": ["settings:read", "settings:write"]},
        headers=world_a.headers(),
    )
    not_owner = {"Authorization": f"Bearer {created.json()['key']}"}
    for reopen in ({"lock_date": None}, {"lock_date": "2026-01-01"}):
        refused = await client.patch("/api/v1/tenant", json=reopen, headers=not_owner)
        assert refused.status_code == 403, reopen
    # Moving it forward is any settings:write holder's to do; an owner's key may reopen.
    assert (await client.patch("/api/v1/tenant", json={"lock_date": today}, headers=not_owner)).status_code == 200
    assert (
        ok(await client.patch("/api/v1/tenant", json={"lock_date": None}, headers=world_a.headers()))["lock_date"]
        is None
    )


async def test_a_billing_run_records_its_invoices_with_their_lines(client: httpx.AsyncClient, world_a: World) -> None:
    """Invoices a run writes in bulk are audited like any other write, lines included."""
    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    [invoice] = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(world_a.headers())), 201)[
        "invoices"
    ]
    [created] = await history(client, world_a, invoice["id"])
    assert (created["action"], created["object_type"]) == ("create", "invoice")
    assert created["actor"].startswith("api_key:")
    changes = created["changes"]
    assert (changes["total"], changes["status"], changes["billing_run_id"]) == (
        invoice["total"],
        "draft",
        invoice["billing_run_id"],
    )
    assert [(line["description"], line["line_amount"], line["tax_amount"]) for line in changes["lines"]] == [
        (line["description"], line["line_amount"], line["tax_amount"]) for line in invoice["lines"]
    ]
    [run] = await history(client, world_a, invoice["billing_run_id"])
    assert (run["action"], run["changes"]["status"], run["changes"]["invoices_created"]) == ("create", "completed", 1)


async def test_bulk_written_events_keep_every_value_whole_or_refuse_it(db: AsyncSession, world_a: World) -> None:
    """Bulk inserts send each column as an array: a value too long for its column must be refused,
    as a single insert refuses it, never cut to fit."""
    await bind_tenant(db, world_a.tenant_id)
    async with db.begin():

        def events(object_type: str) -> list[dict[str, Any]]:
            return [
                {
                    "tenant_id": world_a.tenant_id,
                    "id": new_id(),
                    "actor": f"user:{n}",
                    "action": "create",
                    "object_type": f"{object_type}{n}",  # differs per row, so it travels as an array
                    "object_id": world_a.invoice.id,
                    "changes": {"n": n, "day": date(2027, 3, 1)},
                    "reason": None,
                }
                for n in range(2)
            ]

        await insert_together(db, [event_rows(events("bulk_test"))])
        stored = await db.execute(
            text("SELECT changes FROM audit_events WHERE object_type LIKE 'bulk_test_' ORDER BY object_type")
        )
        assert [row.changes for row in stored] == [{"n": 0, "day": "2027-03-01"}, {"n": 1, "day": "2027-03-01"}]
        with pytest.raises(DBAPIError, match="too long"):
            async with db.begin_nested():
                await insert_together(db, [event_rows(events("x" * 40))])  # object_type is at most 40 characters
