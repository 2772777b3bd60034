"""The sync under fire: 503s, 429 storms, answers lost after the write, and a drain killed mid-batch.
Afterwards every document is in Xero exactly once, with our totals."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.billing.engine import bill_location
from app.integrations.xero import sync
from app.integrations.xero.kinds import KINDS
from app.integrations.xero.models import XeroDocument, XeroJournalEntry
from app.integrations.xero.tokens import access, client_of
from app.invoice.models import Invoice
from app.membership.schemas import MembershipCreate
from app.membership.service import create_membership
from app.state import AppState
from tests.fixtures.xero import Xero
from tests.support.api import keyed, ok
from tests.support.worlds import World, new_customer
from tests.support.xero import books, docs, mapped

CUSTOMERS = 14


async def _due_now(db: AsyncSession, state: AppState) -> None:
    await db.execute(update(XeroDocument).values(next_attempt_at=state.clock.now()))
    await db.commit()


async def test_every_document_lands_once_with_our_totals_through_a_storm_of_faults(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, org_id = await mapped(client, world_a, xero, db)
    operator = world_a.operator
    for n in range(CUSTOMERS):
        company = await new_customer(db, operator, world_a.location, f"Member {n} Ltd", f"member{n}@example.test")
        start = date(2026, 11, 1)
        await create_membership(
            db,
            operator,
            MembershipCreate(
                company_id=company.id, plan_id=world_a.plan.id, location_id=world_a.location.id, start_date=start
            ),
        )
    await bill_location(
        db,
        world_a.tenant_id,
        world_a.location,
        date(2026, 11, 1),
        started_by="test",
        issue_invoices=True,
        clock=state.clock,
    )
    await db.commit()
    issued = select(Invoice).where(Invoice.tenant_id == world_a.tenant_id, Invoice.number.is_not(None))
    invoices = list((await db.scalars(issued.order_by(Invoice.number))).all())
    beyond = {invoice.id for invoice in invoices[:6:2]}  # these customers pay more than they owe
    assert len(invoices) == CUSTOMERS
    for invoice in invoices[:6]:  # some paid in full, some paid beyond (credit), as they come in
        paid = {"company_id": str(invoice.company_id), "currency": "GBP", "method": "bank_transfer"}
        body = paid | {
            "amount": invoice.total + (2500 if invoice.id in beyond else 0),
            "paid_on": "2026-11-04",
        }
        ok(await client.post("/api/v1/payments", json=body, headers=keyed(world_a.headers())), 201)

    # A drain dies after its call went out: the contacts it claimed land in Xero, unrecorded here.
    claimed = await sync._claim(state, world_a.tenant_id, connection_id, KINDS["contact"])
    assert claimed is not None
    assert len(claimed.works) == CUSTOMERS
    granted = await access(state, world_a.tenant_id, connection_id)
    elements = [work.build(None) for work in claimed.works]
    await client_of(state).call(granted.token, granted.xero_tenant_id, "POST", "Contacts", body={"Contacts": elements})
    await db.execute(update(XeroDocument).values(lease_until=state.clock.now()))
    await db.commit()
    await xero.control("POST", "clock", {"scale": 60})  # a sandbox minute is a second: limits bite fast
    await xero.control("POST", "limits", {"per_minute": 8})
    await xero.control("POST", "faults", {"error_rate": 0.2, "lose_rate": 0.2, "seed": 11})

    for _ in range(200):
        pending = [d for d in (await docs(db, world_a)).values() if d.status != "synced"]
        if not pending:
            break
        await _due_now(db, state)
        await sync.drain(state, world_a.tenant_id, connection_id)
    await xero.control("POST", "faults", {})
    # The storm did blow: throttled, unavailable, and answers that never came.
    seen = Counter(entry.status_code for entry in await db.scalars(select(XeroJournalEntry)))
    assert seen[429] > 0
    assert seen[503] > 0
    assert seen[None] > 0
    found = await docs(db, world_a)
    assert {d.status for d in found.values()} == {"synced"}, [
        (d.kind, d.status, d.error) for d in found.values() if d.status != "synced"
    ]

    held = await books(xero, org_id)
    numbers = Counter(i["InvoiceNumber"] for i in held["Invoices"])
    assert numbers == Counter(i.number for i in invoices)  # each exactly once
    ours = {i.number: i for i in invoices}
    for theirs in held["Invoices"]:
        mine = ours[theirs["InvoiceNumber"]]
        assert Decimal(str(theirs["Total"])) == Decimal(mine.total).scaleb(-2)
        assert Decimal(str(theirs["TotalTax"])) == Decimal(mine.tax_total).scaleb(-2)
    contact_numbers = Counter(c.get("ContactNumber") for c in held["Contacts"] if c.get("ContactNumber"))
    assert set(contact_numbers.values()) == {1}
    assert len(contact_numbers) == CUSTOMERS
    assert len(held["Payments"]) == 6
    assert len(held["Overpayments"]) == len(beyond)
    paid_in_xero = sum(Decimal(str(p["Amount"])) for p in held["Payments"])
    assert paid_in_xero == sum(Decimal(i.total).scaleb(-2) for i in invoices[:6])


async def test_a_drain_killed_after_sending_a_batch_leaves_nothing_twice(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, org_id = await mapped(client, world_a, xero, db)
    ok(await client.post(f"/api/v1/invoices/{world_a.invoice.id}/issue", headers=world_a.headers()))
    assert (await sync.drain(state, world_a.tenant_id, connection_id)).synced == 2
    ok(await client.post(f"/api/v1/invoices/{world_a.invoice.id}/void", json={}, headers=world_a.headers()))
    # The killed drain: it claimed the void, sent it, and died before writing anything down.
    claimed = await sync._claim(state, world_a.tenant_id, connection_id, KINDS["invoice"])
    assert claimed is not None
    [work] = claimed.works
    granted = await access(state, world_a.tenant_id, connection_id)
    element = work.build(work.xero_id)
    assert element is not None
    await client_of(state).call(granted.token, granted.xero_tenant_id, "POST", "Invoices", body={"Invoices": [element]})
    await db.execute(update(XeroDocument).values(lease_until=state.clock.now()))
    await db.commit()

    await sync.drain(state, world_a.tenant_id, connection_id)

    held = await books(xero, org_id)
    assert [i["Status"] for i in held["Invoices"]] == ["VOIDED"]
    doc = (await docs(db, world_a))["invoice", world_a.invoice.id]
    assert (doc.status, doc.xero_status, doc.in_doubt) == ("synced", "VOIDED", False)
