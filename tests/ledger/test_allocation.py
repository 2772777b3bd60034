"""Credit held by a customer, spread over its open invoices: oldest credit first, invoices in
order, closed invoices and money in another currency passed over, never stopped at.

The world's November invoice is 406.45; December's and January's, billed by runs here, 262.50."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.db.engine import bind_tenant
from app.invoice.models import Invoice
from app.kit.errors import Conflict
from app.ledger.allocation import allocate_to_invoice, apply_credit, status_for
from app.ledger.models import Allocation, Payment
from app.ledger.repository import LedgerRepository
from tests.support.api import issue, keyed, ok
from tests.support.worlds import World

NOVEMBER, MONTH = 40645, 26250


def test_an_invoice_status_follows_what_is_due() -> None:
    assert status_for(40645, 40645) == "issued"
    # Amounts are compared by value: a total and a due worked out apart are two int objects.
    assert status_for(int("40645"), int("40645")) == "issued"
    assert status_for(40645, 40644) == "partially_paid"
    assert status_for(40645, 1) == "partially_paid"
    assert status_for(40645, 0) == "paid"
    assert status_for(40645, -5) == "paid"


async def three_invoices(client: httpx.AsyncClient, world: World) -> list[dict[str, Any]]:
    """November, December and January, issued in that order (so due in that order)."""
    headers = world.headers()
    made = [await issue(client, world)]
    for period in ("2026-12-01", "2027-01-01"):
        url = f"/api/v1/locations/{world.location.id}/billing/run"
        [draft] = ok(await client.post(url, json={"period_start": period}, headers=keyed(headers)), 201)["invoices"]
        made.append(ok(await client.post(f"/api/v1/invoices/{draft['id']}/issue", headers=headers)))
    assert [i["total"] for i in made] == [NOVEMBER, MONTH, MONTH]
    return made


async def unallocated(client: httpx.AsyncClient, world: World, amount: int, day: str) -> dict[str, Any]:
    body = {
        "company_id": str(world.company.id),
        "amount": amount,
        "currency": "GBP",
        "method": "bank_transfer",
        "paid_on": day,
        "allocations": [],
    }
    made: dict[str, Any] = ok(await client.post("/api/v1/payments", json=body, headers=keyed(world.headers())), 201)
    assert made["unallocated"] == amount
    return made


async def state_of(client: httpx.AsyncClient, world: World, invoice: dict[str, Any]) -> tuple[str, int | None]:
    found = ok(await client.get(f"/api/v1/invoices/{invoice['id']}", headers=world.headers()))
    return found["status"], found["amount_due"]


async def test_credit_spreads_over_the_open_invoices_past_a_closed_one(
    client: httpx.AsyncClient, world_a: World
) -> None:
    headers = world_a.headers()
    november, december, january = await three_invoices(client, world_a)
    ok(await client.post(f"/api/v1/invoices/{december['id']}/write-off", json={}, headers=keyed(headers)), 201)
    early = await unallocated(client, world_a, NOVEMBER - 1, "2026-11-20")
    late = await unallocated(client, world_a, 10000, november["issue_date"])

    url = f"/api/v1/companies/{world_a.company.id}/apply-credit"
    answer = ok(await client.post(url, headers=keyed(headers)))
    # The older payment leaves one penny of November due, which the later one pays before going on
    # to January (December is written off and gets nothing): 99.99 on January.
    assert answer == {
        "company_id": str(world_a.company.id),
        "currency": "GBP",
        "outstanding": MONTH - 9999,
        "credit": 0,
    }
    assert await state_of(client, world_a, november) == ("paid", 0)
    assert await state_of(client, world_a, december) == ("paid", 0)
    assert await state_of(client, world_a, january) == ("partially_paid", MONTH - 9999)
    spent = {
        payment["id"]: [
            (a["invoice_id"], a["amount"])
            for a in ok(await client.get(f"/api/v1/payments/{payment['id']}", headers=headers))["allocations"]
        ]
        for payment in (early, late)
    }
    assert spent == {
        early["id"]: [(november["id"], NOVEMBER - 1)],
        late["id"]: [(november["id"], 1), (january["id"], 9999)],
    }
    # Nothing is left to apply: a second call changes nothing.
    assert ok(await client.post(url, headers=keyed(headers))) == answer


async def test_closed_invoices_and_other_currencies_are_passed_over_not_stopped_at(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    """What a billing run hands over may hold a closed invoice among open ones, and a customer may
    hold money in another currency: neither ends the allocation early."""
    november, december, january = await three_invoices(client, world_a)
    ok(
        await client.post(f"/api/v1/invoices/{december['id']}/write-off", json={}, headers=keyed(world_a.headers())),
        201,
    )
    await bind_tenant(db, world_a.tenant_id)
    invoices = [
        await db.get_one(Invoice, (world_a.tenant_id, uuid.UUID(i["id"])), populate_existing=True)
        for i in (november, december, january)
    ]
    day = date(2026, 12, 7)
    assert await apply_credit(db, world_a.tenant_id, world_a.company.id, invoices, day) == 0  # no credit held
    gbp = await unallocated(client, world_a, NOVEMBER + 5000, november["issue_date"])
    euros = Payment(
        tenant_id=world_a.tenant_id,
        company_id=world_a.company.id,
        amount=90000,
        currency="EUR",
        method="bank_transfer",
        paid_on=date(2026, 10, 1),  # the oldest credit, so it is looked at first
    )
    dollars = Payment(
        tenant_id=world_a.tenant_id,
        company_id=world_a.company.id,
        amount=90000,
        currency="USD",  # a code sorting after GBP, as EUR sorts before it
        method="bank_transfer",
        paid_on=date(2026, 10, 2),
    )
    db.add_all([euros, dollars])
    await db.flush()
    assert await apply_credit(db, world_a.tenant_id, world_a.company.id, [], day) == 0  # nothing to pay

    applied = await apply_credit(db, world_a.tenant_id, world_a.company.id, invoices, day)

    assert applied == NOVEMBER + 5000
    dues = await LedgerRepository(db, world_a.tenant_id).amounts_due([i.id for i in invoices])
    assert [dues[i.id] for i in invoices] == [0, 0, MONTH - 5000]
    assert [i.status for i in invoices] == ["paid", "paid", "partially_paid"]
    paid = select(Allocation.invoice_id, Allocation.payment_id, Allocation.amount, Allocation.with_receipt)
    rows = (await db.execute(paid.where(Allocation.payment_id.is_not(None)))).all()
    assert sorted(rows, key=lambda row: row.amount) == [
        (invoices[2].id, uuid.UUID(gbp["id"]), 5000, False),
        (invoices[0].id, uuid.UUID(gbp["id"]), NOVEMBER, False),
    ]


async def test_a_payment_being_received_pays_as_a_receipt(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    """The payment coming in is the invoice's receipt; credit held from before is spent credit."""
    november = await issue(client, world_a)
    held = await unallocated(client, world_a, 10000, november["issue_date"])
    body = {
        "company_id": str(world_a.company.id),
        "amount": NOVEMBER - 10000,
        "currency": "GBP",
        "method": "bank_transfer",
        "paid_on": november["issue_date"],
    }
    received = ok(await client.post("/api/v1/payments", json=body, headers=keyed(world_a.headers())), 201)
    assert [(a["invoice_id"], a["amount"]) for a in received["allocations"]] == [(november["id"], NOVEMBER - 10000)]
    await bind_tenant(db, world_a.tenant_id)
    rows = (await db.execute(select(Allocation.payment_id, Allocation.amount, Allocation.with_receipt))).all()
    assert sorted(rows, key=lambda row: row.amount) == [
        (uuid.UUID(held["id"]), 10000, False),
        (uuid.UUID(received["id"]), NOVEMBER - 10000, True),
    ]
    assert await state_of(client, world_a, november) == ("paid", 0)


async def test_only_an_amount_between_one_minor_unit_and_what_is_due_is_applied(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    november = await issue(client, world_a)
    payment = await unallocated(client, world_a, NOVEMBER + 100, november["issue_date"])
    await bind_tenant(db, world_a.tenant_id)
    invoice = await db.get_one(Invoice, (world_a.tenant_id, uuid.UUID(november["id"])), populate_existing=True)
    paid, day = uuid.UUID(payment["id"]), date(2026, 12, 7)
    for amount in (0, -1, NOVEMBER + 1):
        with pytest.raises(Conflict, match=f"has {NOVEMBER} due; {amount} cannot be applied"):
            await allocate_to_invoice(db, invoice, amount, day, currency="GBP", payment_id=paid)
    version = invoice.version
    first = await allocate_to_invoice(db, invoice, 1, day, currency="GBP", payment_id=paid)
    assert invoice.status == "partially_paid"
    assert not first.with_receipt  # spent credit unless the caller says the payment is coming in now
    await allocate_to_invoice(db, invoice, NOVEMBER - 1, day, currency="GBP", payment_id=paid)
    assert invoice.status == "paid"
    # Each change counts one version, and the audit trail records it.
    assert invoice.version == version + 2
    changes = await db.scalars(
        select(AuditEvent.changes).where(AuditEvent.object_id == invoice.id).order_by(AuditEvent.id)
    )
    assert [c["version"] for c in changes if "version" in c][-2:] == [
        [version, version + 1],
        [version + 1, version + 2],
    ]
    assert (await LedgerRepository(db, world_a.tenant_id).amounts_due([invoice.id]))[invoice.id] == 0
    with pytest.raises(Conflict, match=f"Invoice {november['number']} is paid; nothing can be applied"):
        await allocate_to_invoice(db, invoice, 1, day, currency="GBP", payment_id=paid)


async def test_money_in_another_currency_is_refused_whichever_way_its_code_sorts(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    november = await issue(client, world_a)
    await bind_tenant(db, world_a.tenant_id)
    invoice = await db.get_one(Invoice, (world_a.tenant_id, uuid.UUID(november["id"])), populate_existing=True)
    for currency in ("EUR", "USD"):  # before and after GBP
        with pytest.raises(Conflict, match=f"Invoice {november['number']} is in GBP; {currency} cannot be applied"):
            await allocate_to_invoice(db, invoice, 100, date(2026, 12, 7), currency=currency)
    assert (await LedgerRepository(db, world_a.tenant_id).amounts_due([invoice.id]))[invoice.id] == NOVEMBER
