"""Idempotency-Key where money moves: required on payments, refunds, credit notes, write-offs and
billing runs (refused with a 400 that says why, writing nothing), and honoured on all of them and on
applying credit: a retry with the same key answers the first answer and does nothing again."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.billing.models import BillingRun
from app.db.engine import bind_tenant
from app.ledger.models import Allocation, CreditNote, Payment, Refund, WriteOff
from tests.support.api import issue, ok
from tests.support.worlds import World


def _money(world: World, amount: int) -> dict[str, Any]:
    return {
        "company_id": str(world.company.id),
        "amount": amount,
        "currency": "GBP",
        "method": "bank_transfer",
    }


async def _counts(db: AsyncSession, world: World) -> dict[str, int]:
    await bind_tenant(db, world.tenant_id)
    return {
        model.__tablename__: (await db.execute(select(func.count()).select_from(model))).scalar_one()
        for model in (Payment, Refund, CreditNote, WriteOff, BillingRun, Allocation)
    }


def _requests(world: World, day: str) -> list[tuple[str, dict[str, Any]]]:
    invoice = f"/api/v1/invoices/{world.invoice.id}"
    return [
        ("/api/v1/payments", {**_money(world, 50000), "paid_on": day}),  # leaves credit to refund
        ("/api/v1/refunds", {**_money(world, 100), "refunded_on": day}),
        (f"{invoice}/credit-notes", {"allocate": False}),
        (f"{invoice}/write-off", {"reason": "Gone away"}),
        (f"/api/v1/locations/{world.location.id}/billing/run", {"period_start": "2026-12-01"}),
    ]


@pytest.mark.parametrize("key", [None, "", "k" * 201], ids=["missing", "empty", "too-long"])
async def test_money_moving_posts_require_a_key(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World, key: str | None
) -> None:
    day = (await issue(client, world_a))["issue_date"]
    before = await _counts(db, world_a)
    headers = world_a.headers() if key is None else {**world_a.headers(), "Idempotency-Key": key}
    for path, body in _requests(world_a, day):
        for _ in range(2):  # two identical key-less requests: neither records anything
            refused = await client.post(path, json=body, headers=headers)
            assert refused.status_code == 400, f"{path}: {refused.text}"
            problem = refused.json()
            assert problem["code"] == "idempotency_key_required"
            assert "Idempotency-Key" in problem["detail"]
            assert "twice" in problem["detail"]
    assert await _counts(db, world_a) == before


async def test_a_billing_run_with_one_key_runs_once(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    headers = {**world_a.headers(), "Idempotency-Key": "december-run"}
    before = await _counts(db, world_a)
    answers = [ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=headers), 201) for _ in range(3)]
    assert answers[0]["invoices"], "the run billed nothing, so it proves nothing"
    assert answers[1] == answers[0]
    assert answers[2] == answers[0]
    after = await _counts(db, world_a)
    assert after["billing_runs"] == before["billing_runs"] + 1
    # The same key for another period is another request: refused, not replayed.
    other = await client.post(url, json={"period_start": "2027-01-01"}, headers=headers)
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]


async def test_each_money_post_replays_its_first_answer(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    day = (await issue(client, world_a))["issue_date"]
    for number, (path, body) in enumerate(_requests(world_a, day)):
        if path.endswith("/write-off"):
            continue  # after the credit note nothing is left to write off; its own test is below
        headers = {**world_a.headers(), "Idempotency-Key": f"request-{number}"}
        first = await client.post(path, json=body, headers=headers)
        assert first.status_code == 201, f"{path}: {first.text}"
        counts = await _counts(db, world_a)
        again = await client.post(path, json=body, headers=headers)
        assert (again.status_code, again.json()) == (201, first.json()), path
        assert await _counts(db, world_a) == counts, path


async def test_a_retried_write_off_writes_off_once(client: httpx.AsyncClient, db: AsyncSession, world_a: World) -> None:
    await issue(client, world_a)
    url = f"/api/v1/invoices/{world_a.invoice.id}/write-off"
    headers = {**world_a.headers(), "Idempotency-Key": "write-off-1"}
    first = ok(await client.post(url, json={"reason": "Gone away"}, headers=headers), 201)
    again = ok(await client.post(url, json={"reason": "Gone away"}, headers=headers), 201)
    assert again == first
    assert (await _counts(db, world_a))["write_offs"] == 1


async def test_applying_credit_honours_a_key(client: httpx.AsyncClient, db: AsyncSession, world_a: World) -> None:
    """Credit applied once is gone: a retry with the key answers what the first call did, and one
    without a key is still taken (it simply finds nothing left to apply)."""
    day = (await issue(client, world_a))["issue_date"]
    credit = {**_money(world_a, 500), "paid_on": day, "allocations": []}
    ok(await client.post("/api/v1/payments", json=credit, headers={**world_a.headers(), "Idempotency-Key": "p"}), 201)
    url = f"/api/v1/companies/{world_a.company.id}/apply-credit"
    headers = {**world_a.headers(), "Idempotency-Key": "apply-1"}
    first = ok(await client.post(url, headers=headers))
    assert first["credit"] == 0
    allocations = (await _counts(db, world_a))["allocations"]
    assert ok(await client.post(url, headers=headers)) == first
    assert ok(await client.post(url, headers=world_a.headers())) == first
    assert (await _counts(db, world_a))["allocations"] == allocations
