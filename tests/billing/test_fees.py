"""One-off fees: billed in arrears by the next run, once; waivable while pending."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import keyed, ok, tax_account
from tests.support.worlds import World


async def _fee(client: httpx.AsyncClient, world: World, day: str, amount: int = 1500, **extra: Any) -> dict[str, Any]:
    body = {
        "company_id": str(world.company.id),
        "location_id": str(world.location.id),
        "description": "Replacement key card",
        "unit_amount": amount,
        "charge_date": day,
        **extra,
    }
    fee: dict[str, Any] = ok(await client.post("/api/v1/fees", json=body, headers=world.headers()), 201)
    return fee


async def _run(client: httpx.AsyncClient, world: World, period: str) -> list[dict[str, Any]]:
    url = f"/api/v1/locations/{world.location.id}/billing/run"
    invoices: list[dict[str, Any]] = ok(
        await client.post(url, json={"period_start": period}, headers=keyed(world.headers())), 201
    )["invoices"]
    return invoices


async def test_a_fee_is_billed_by_the_next_run_once(client: httpx.AsyncClient, world_a: World) -> None:
    await tax_account(client, world_a, "one_off_fees")
    fee = await _fee(client, world_a, "2026-11-20", quantity=2)
    later = await _fee(client, world_a, "2026-12-05")
    [december] = await _run(client, world_a, "2026-12-01")
    [line] = [line for line in december["lines"] if line["explanation"]["kind"] == "fee"]
    assert (line["description"], line["quantity"], line["unit_amount"], line["line_amount"], line["tax_amount"]) == (
        "Replacement key card (20 Nov 2026)",
        "2.0000",
        1500,
        3000,
        600,
    )
    assert ok(await client.get(f"/api/v1/fees/{fee['id']}", headers=world_a.headers()))["status"] == "billed"
    assert ok(await client.get(f"/api/v1/fees/{later['id']}", headers=world_a.headers()))["status"] == "pending"
    assert await _run(client, world_a, "2026-12-01") == []  # again: nothing new


async def test_a_waived_fee_is_never_billed(client: httpx.AsyncClient, world_a: World) -> None:
    await tax_account(client, world_a, "one_off_fees")
    fee = await _fee(client, world_a, "2026-11-20")
    waived = ok(
        await client.post(f"/api/v1/fees/{fee['id']}/waive", json={"reason": "Goodwill"}, headers=world_a.headers())
    )
    assert (waived["status"], waived["waived_reason"]) == ("waived", "Goodwill")
    [december] = await _run(client, world_a, "2026-12-01")
    assert not [line for line in december["lines"] if line["explanation"]["kind"] == "fee"]


async def test_a_billed_fee_cannot_be_waived_and_a_void_returns_it(client: httpx.AsyncClient, world_a: World) -> None:
    await tax_account(client, world_a, "one_off_fees")
    fee = await _fee(client, world_a, "2026-11-20")
    [december] = await _run(client, world_a, "2026-12-01")
    refused = await client.post(f"/api/v1/fees/{fee['id']}/waive", json={}, headers=world_a.headers())
    assert refused.status_code == 409
    ok(await client.post(f"/api/v1/invoices/{december['id']}/void", json={}, headers=world_a.headers()))
    assert ok(await client.get(f"/api/v1/fees/{fee['id']}", headers=world_a.headers()))["status"] == "pending"
    [again] = await _run(client, world_a, "2026-12-01")
    assert any(line["explanation"]["kind"] == "fee" for line in again["lines"])


async def test_a_fee_without_a_tax_rate_waits_and_says_why(client: httpx.AsyncClient, world_a: World) -> None:
    fee = await _fee(client, world_a, "2026-11-20")
    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    run = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(world_a.headers())), 201)
    assert any("Replacement key card" in problem and "One-off fees" in problem for problem in run["problems"])
    assert ok(await client.get(f"/api/v1/fees/{fee['id']}", headers=world_a.headers()))["status"] == "pending"
