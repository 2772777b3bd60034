"""Earlier documents: what a location issued, was paid and refunded before it was mapped reaches
its organisation when the operator asks, from the day they pick, and never twice."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import bind_tenant
from app.db.session import tenant_transaction
from app.integrations.xero import outbox, sync
from app.integrations.xero.models import XeroDocument
from app.state import AppState
from tests.fixtures.xero import Xero
from tests.support.api import issue, keyed, ok
from tests.support.web import csrf_in
from tests.support.worlds import World
from tests.support.xero import amount, books, docs, full_mapping, mapped, pay


async def history(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """The invoice issued, paid with 50.00 over, half credited, and 60.00 refunded."""
    issued = await issue(client, world)
    await pay(client, world, issued["total"] + 5000, issued["issue_date"])
    lines = ok(await client.get(f"/api/v1/invoices/{world.invoice.id}", headers=world.headers()))["lines"]
    part = {"lines": [{"invoice_line_id": lines[0]["id"], "amount": 1000}], "reason": "Goodwill"}
    url = f"/api/v1/invoices/{world.invoice.id}/credit-notes"
    ok(await client.post(url, json=part, headers=keyed(world.headers())), 201)
    refund = {"company_id": str(world.company.id), "amount": 6000, "currency": "GBP", "method": "bank_transfer"}
    refund["refunded_on"] = issued["issue_date"]
    ok(await client.post("/api/v1/refunds", json=refund, headers=keyed(world.headers())), 201)
    return issued


async def send_earlier(client: httpx.AsyncClient, world: World, since: date | str) -> httpx.Response:
    url = f"/api/v1/locations/{world.location.id}/xero/earlier"
    return await client.post(url, json={"since": str(since)}, headers=world.headers())


async def test_earlier_documents_reach_xero_from_the_day_chosen_once(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    issued = await history(client, world_a)
    connection_id, org_id = await mapped(client, world_a, xero, db)
    assert await docs(db, world_a) == {}  # mapping alone sends nothing of the past

    day = date.fromisoformat(issued["issue_date"])
    later = ok(await send_earlier(client, world_a, day + timedelta(days=1)), 202)
    assert later == {"queued": 0, "by_kind": later["by_kind"]}
    assert set(later["by_kind"].values()) == {0}

    queued = ok(await send_earlier(client, world_a, day), 202)
    assert queued["by_kind"] == {
        "invoice": 1,
        "credit_note": 1,
        "overpayment": 1,
        "payment": 1,
        "allocation": 0,
        "refund": 2,  # 50.00 from the payment's credit, then 10.00 from the credit note's
        "contact": 1,
    }
    assert queued["queued"] == 7
    report = await sync.drain(state, world_a.tenant_id, connection_id)
    assert report.stopped is None
    found = await docs(db, world_a)
    assert {d.status for d in found.values()} == {"synced"}, [(k, d.status, d.error) for k, d in found.items()]
    held = await books(xero, org_id)
    [invoice] = held["Invoices"]
    assert (invoice["InvoiceNumber"], invoice["Status"]) == (issued["number"], "PAID")
    [over] = held["Overpayments"]
    assert (amount(over["Total"]), amount(over["RemainingCredit"])) == (Decimal(50), Decimal(0))
    assert len(held["CreditNotes"]) == 1

    again = ok(await send_earlier(client, world_a, day - timedelta(days=365)), 202)
    assert again["queued"] == 0
    assert (await sync.drain(state, world_a.tenant_id, connection_id)).calls == 0


async def test_credit_spent_from_the_day_on_goes_with_the_earlier_payment_it_came_from(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    await pay(client, world_a, 5000, "2026-10-01")
    issued = await issue(client, world_a)  # takes the 50.00 of credit the payment left
    connection_id, org_id = await mapped(client, world_a, xero, db)

    queued = ok(await send_earlier(client, world_a, issued["issue_date"]), 202)
    assert {kind: n for kind, n in queued["by_kind"].items() if n} == {
        "invoice": 1,
        "overpayment": 1,  # paid before the day chosen, but its credit is spent on the invoice
        "allocation": 1,
        "contact": 1,
    }
    await sync.drain(state, world_a.tenant_id, connection_id)

    assert {d.status for d in (await docs(db, world_a)).values()} == {"synced"}
    held = await books(xero, org_id)
    [invoice] = held["Invoices"]
    assert amount(invoice["AmountPaid"]) + amount(invoice.get("AmountCredited", 0)) == Decimal(50)
    [over] = held["Overpayments"]
    assert amount(over["RemainingCredit"]) == 0


async def test_sending_earlier_documents_asks_for_a_date_and_a_mapped_location_of_ones_own(
    client: httpx.AsyncClient, world_a: World, world_b: World, xero: Xero, db: AsyncSession
) -> None:
    await issue(client, world_a)
    assert (await send_earlier(client, world_a, "2026-01-01")).status_code == 404  # not mapped yet
    await mapped(client, world_a, xero, db)
    for bad in ({}, {"since": "last spring"}, {"since": "2026-02-30"}):
        url = f"/api/v1/locations/{world_a.location.id}/xero/earlier"
        answer = await client.post(url, json=bad, headers=world_a.headers())
        assert answer.status_code == 400, answer.text
    url = f"/api/v1/locations/{world_a.location.id}/xero/earlier"
    assert (await client.post(url, json={"since": "2026-01-01"}, headers=world_b.headers())).status_code == 404
    await bind_tenant(db, world_a.tenant_id)
    assert await db.scalar(select(func.count()).select_from(XeroDocument)) == 0


async def test_the_console_sends_earlier_documents_from_the_locations_page(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession
) -> None:
    issued = await issue(client, world_a)
    await mapped(client, world_a, xero, db)  # signs the console in too
    page = await client.get(f"/console/locations/{world_a.location.id}/xero")
    assert "Send earlier documents" in page.text
    action = f"/console/locations/{world_a.location.id}/xero/earlier"

    wrong = await client.post(action, data={"_csrf_token": csrf_in(page), "since": ""})
    assert wrong.status_code == 422
    assert "first date to send from" in wrong.text

    sent = await client.post(action, data={"_csrf_token": csrf_in(page), "since": issued["issue_date"]})
    assert sent.status_code == 303
    shown = await client.get(str(sent.headers["location"]))
    assert "2 earlier document(s) queued for Xero." in shown.text
    found = await docs(db, world_a)
    assert {kind for kind, _ in found} == {"contact", "invoice"}
    assert uuid.UUID(str(world_a.invoice.id)) in {object_id for _, object_id in found}


async def test_thousands_of_documents_are_noted_in_statements_postgres_accepts(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, _ = await mapped(client, world_a, xero, db)
    many = [uuid.uuid4() for _ in range(3 * outbox.NOTE_ROWS + 500)]  # past 32,767 parameters at once
    async with tenant_transaction(state, world_a.tenant_id) as session:
        assert await outbox.note(session, world_a.tenant_id, connection_id, "invoice", *many) == len(many)
        assert await outbox.note(session, world_a.tenant_id, connection_id, "invoice", *many, changed=False) == 0
        assert await outbox.note(session, world_a.tenant_id, connection_id, "invoice", *many[:10]) == 10
    await bind_tenant(db, world_a.tenant_id)
    versions = (await db.execute(select(XeroDocument.version, func.count()).group_by(XeroDocument.version))).all()
    assert sorted(versions) == [(1, len(many) - 10), (2, 10)]


async def test_an_earlier_write_off_goes_with_its_invoice(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    issued = await issue(client, world_a)
    url = f"/api/v1/invoices/{world_a.invoice.id}/write-off"
    ok(await client.post(url, json={}, headers=keyed(world_a.headers())), 201)
    connection_id, org_id = await mapped(client, world_a, xero, db)
    body = await full_mapping(client, world_a, str(connection_id))
    body["payment_accounts"]["write_off"] = "495"
    ok(await client.put(f"/api/v1/locations/{world_a.location.id}/xero", json=body, headers=world_a.headers()))

    queued = ok(await send_earlier(client, world_a, issued["issue_date"]), 202)
    assert (queued["by_kind"]["invoice"], queued["by_kind"]["payment"]) == (1, 1)
    await sync.drain(state, world_a.tenant_id, connection_id)

    held = await books(xero, org_id)
    assert held["Invoices"][0]["Status"] == "PAID"
    [written_off] = held["Payments"]
    assert (written_off["Account"]["Code"], written_off["Reference"]) == ("495", "Written off")
