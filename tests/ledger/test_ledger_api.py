"""Payments, credit notes, customer credit, refunds and write-offs, through the API.

The world's draft invoice (Acme, 406.45 = 338.71 + 67.74 VAT) is issued first in most tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import bind_tenant
from app.invoice.models import Invoice
from app.kit.errors import Conflict
from app.ledger.allocation import allocate_to_invoice
from app.ledger.models import Allocation, Payment
from app.ledger.repository import LedgerRepository
from tests.support.api import issue, keyed, ok
from tests.support.ledger import payment
from tests.support.worlds import World

TOTAL = 40645


async def overpaid(client: httpx.AsyncClient, world: World, extra: int) -> dict[str, Any]:
    """The world's invoice, issued and paid with ``extra`` over, which the customer holds as credit."""
    issued = await issue(client, world)
    body = payment(world, TOTAL + extra, issued["issue_date"])
    ok(await client.post("/api/v1/payments", json=body, headers=keyed(world.headers())), 201)
    return issued


async def invoice(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    found: dict[str, Any] = ok(await client.get(f"/api/v1/invoices/{world.invoice.id}", headers=world.headers()))
    return found


async def balance(client: httpx.AsyncClient, world: World) -> tuple[int, int]:
    found = ok(await client.get(f"/api/v1/companies/{world.company.id}/balance", headers=world.headers()))
    return found["outstanding"], found["credit"]


async def test_a_part_payment_then_the_rest_then_an_overpayment(client: httpx.AsyncClient, world_a: World) -> None:
    day = (await issue(client, world_a))["issue_date"]
    headers = world_a.headers()
    first = ok(await client.post("/api/v1/payments", json=payment(world_a, 10000, day), headers=keyed(headers)), 201)
    assert [(a["invoice_id"], a["amount"]) for a in first["allocations"]] == [(str(world_a.invoice.id), 10000)]
    assert (await invoice(client, world_a))["status"] == "partially_paid"
    assert (await invoice(client, world_a))["amount_due"] == TOTAL - 10000
    second = ok(await client.post("/api/v1/payments", json=payment(world_a, 35000, day), headers=keyed(headers)), 201)
    assert second["unallocated"] == 35000 - (TOTAL - 10000)
    found = await invoice(client, world_a)
    assert (found["status"], found["amount_due"]) == ("paid", 0)
    assert await balance(client, world_a) == (0, 10000 + 35000 - TOTAL)


async def test_an_allocation_beyond_what_is_due_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    day = (await issue(client, world_a))["issue_date"]
    body = payment(world_a, 50000, day, allocations=[{"invoice_id": str(world_a.invoice.id), "amount": TOTAL + 1}])
    refused = await client.post("/api/v1/payments", json=body, headers=keyed(world_a.headers()))
    assert refused.status_code == 409, refused.text
    await bind_tenant(db, world_a.tenant_id)
    assert (await db.execute(select(func.count()).select_from(Payment))).scalar_one() == 0
    assert (await db.execute(select(func.count()).select_from(Allocation))).scalar_one() == 0


async def test_a_retried_payment_is_recorded_once(client: httpx.AsyncClient, db: AsyncSession, world_a: World) -> None:
    day = (await issue(client, world_a))["issue_date"]
    headers = {**world_a.headers(), "Idempotency-Key": "bank-line-2026-11-21-001"}
    first = ok(await client.post("/api/v1/payments", json=payment(world_a, 10000, day), headers=headers), 201)
    again = ok(await client.post("/api/v1/payments", json=payment(world_a, 10000, day), headers=headers), 201)
    assert again == first
    await bind_tenant(db, world_a.tenant_id)
    assert (await db.execute(select(func.count()).select_from(Payment))).scalar_one() == 1
    reused = await client.post("/api/v1/payments", json=payment(world_a, 20000, day), headers=headers)
    assert reused.status_code == 422
    assert "different request" in reused.json()["detail"]


async def test_a_payment_in_another_currency_is_refused(client: httpx.AsyncClient, world_a: World) -> None:
    day = (await issue(client, world_a))["issue_date"]
    body = {**payment(world_a, 10000, day), "currency": "EUR"}
    refused = await client.post("/api/v1/payments", json=body, headers=keyed(world_a.headers()))
    assert refused.status_code == 409
    assert "Mismatched currencies" in refused.json()["detail"]


async def test_a_full_credit_note_settles_the_invoice(client: httpx.AsyncClient, world_a: World) -> None:
    await issue(client, world_a)
    note = ok(
        await client.post(
            f"/api/v1/invoices/{world_a.invoice.id}/credit-notes", json={}, headers=keyed(world_a.headers())
        ),
        201,
    )
    assert note["number"] == "MAIN-CN-000001"
    assert (note["subtotal"], note["tax_total"], note["total"], note["unallocated"]) == (33871, 6774, TOTAL, 0)
    assert len(note["lines"]) == 4
    found = await invoice(client, world_a)
    assert (found["status"], found["amount_due"]) == ("paid", 0)
    again = await client.post(
        f"/api/v1/invoices/{world_a.invoice.id}/credit-notes", json={}, headers=keyed(world_a.headers())
    )
    assert again.status_code == 409
    assert "Nothing is left" in again.json()["detail"]


async def test_part_of_a_line_is_credited_with_its_share_of_tax(client: httpx.AsyncClient, world_a: World) -> None:
    issued = await issue(client, world_a)
    november = issued["lines"][2]  # Hot desk for November: 250.00 + 50.00 VAT
    url = f"/api/v1/invoices/{world_a.invoice.id}/credit-notes"
    body = {"lines": [{"invoice_line_id": november["id"], "amount": 5000}], "allocate": False}
    note = ok(await client.post(url, json=body, headers=keyed(world_a.headers())), 201)
    assert (note["subtotal"], note["tax_total"], note["total"], note["unallocated"]) == (5000, 1000, 6000, 6000)
    assert await balance(client, world_a) == (TOTAL, 6000)
    too_much = {"lines": [{"invoice_line_id": november["id"], "amount": 20001}]}
    refused = await client.post(url, json=too_much, headers=keyed(world_a.headers()))
    assert refused.status_code == 409
    assert "At most 20000" in refused.json()["detail"]


async def test_customer_credit_pays_the_next_invoice_when_it_is_issued(
    client: httpx.AsyncClient, world_a: World
) -> None:
    await overpaid(client, world_a, 5000)
    headers = world_a.headers()
    assert await balance(client, world_a) == (0, 5000)
    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    december = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(headers)), 201)["invoices"][
        0
    ]
    issued_december = ok(await client.post(f"/api/v1/invoices/{december['id']}/issue", headers=headers))
    assert issued_december["amount_due"] == december["total"] - 5000
    assert issued_december["status"] == "partially_paid"
    assert await balance(client, world_a) == (december["total"] - 5000, 0)


async def test_a_run_that_issues_numbers_its_invoices_in_a_row_and_uses_the_credit_held(
    client: httpx.AsyncClient, world_a: World
) -> None:
    issued = await overpaid(client, world_a, 5000)
    headers = world_a.headers()
    customer = {"billing_email": "ap@other.test", "country": "GB", "currency": "GBP", "payment_terms_days": 30}
    customer["home_location_id"] = str(world_a.location.id)
    others = []
    for name in ("Aardvark Ltd", "Zebra Ltd"):  # one sorts before the customer holding credit, one after
        other = ok(await client.post("/api/v1/companies", json={**customer, "legal_name": name}, headers=headers), 201)
        membership = {
            "company_id": other["id"],
            "plan_id": str(world_a.plan.id),
            "location_id": str(world_a.location.id),
        }
        ok(
            await client.post("/api/v1/memberships", json={**membership, "start_date": "2026-12-01"}, headers=headers),
            201,
        )
        others.append(other["id"])
    ok(await client.patch("/api/v1/tenant", json={"issue_on_run": True}, headers=headers))

    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    run = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(headers)), 201)
    made = [ok(await client.get(f"/api/v1/invoices/{i['id']}", headers=headers)) for i in run["invoices"]]
    assert len(made) == 3
    # The run's own answer already shows the credit applied, as the invoices read back do.
    assert [(i["status"], i["total"]) for i in run["invoices"]] == [(i["status"], i["total"]) for i in made]
    # Numbered in the run's order, right after the invoice issued by hand, none skipped.
    first = int(issued["number"].rsplit("-", 1)[1])
    assert [int(i["number"].rsplit("-", 1)[1]) for i in made] == [first + 1, first + 2, first + 3]
    for found in made:
        assert found["issue_date"] == issued["issue_date"]
        terms = 30 if found["company_id"] in others else world_a.company.payment_terms_days
        assert date.fromisoformat(found["due_date"]) == date.fromisoformat(found["issue_date"]) + timedelta(days=terms)
        if found["company_id"] == str(world_a.company.id):
            assert (found["status"], found["amount_due"]) == ("partially_paid", found["total"] - 5000)
        else:
            assert (found["status"], found["amount_due"]) == ("issued", found["total"])
    assert await balance(client, world_a) == (made[1]["total"] - 5000, 0)


async def test_refunds_come_out_of_credit_and_no_further(client: httpx.AsyncClient, world_a: World) -> None:
    day = (await overpaid(client, world_a, 2500))["issue_date"]
    headers = world_a.headers()
    refund = {
        "company_id": str(world_a.company.id),
        "amount": 2500,
        "currency": "GBP",
        "method": "bank_transfer",
        "refunded_on": day,
    }
    too_much = await client.post("/api/v1/refunds", json={**refund, "amount": 2501}, headers=keyed(headers))
    assert too_much.status_code == 409
    done = ok(await client.post("/api/v1/refunds", json=refund, headers=keyed(headers)), 201)
    assert sum(a["amount"] for a in done["allocations"]) == 2500
    assert await balance(client, world_a) == (0, 0)


async def test_a_write_off_settles_what_is_left(client: httpx.AsyncClient, world_a: World) -> None:
    day = (await issue(client, world_a))["issue_date"]
    headers = world_a.headers()
    ok(await client.post("/api/v1/payments", json=payment(world_a, 40000, day), headers=keyed(headers)), 201)
    written = ok(
        await client.post(
            f"/api/v1/invoices/{world_a.invoice.id}/write-off", json={"reason": "Gone away"}, headers=keyed(headers)
        ),
        201,
    )
    assert written["amount"] == TOTAL - 40000
    found = await invoice(client, world_a)
    assert (found["status"], found["amount_due"]) == ("paid", 0)


async def test_an_invoice_with_money_applied_cannot_be_voided(client: httpx.AsyncClient, world_a: World) -> None:
    day = (await issue(client, world_a))["issue_date"]
    ok(await client.post("/api/v1/payments", json=payment(world_a, 100, day), headers=keyed(world_a.headers())), 201)
    refused = await client.post(f"/api/v1/invoices/{world_a.invoice.id}/void", json={}, headers=world_a.headers())
    assert refused.status_code == 409
    assert "credit it instead" in refused.json()["detail"]


async def test_money_dated_in_a_locked_period_is_refused(client: httpx.AsyncClient, world_a: World) -> None:
    day = (await issue(client, world_a))["issue_date"]
    ok(await client.patch("/api/v1/tenant", json={"lock_date": day}, headers=world_a.headers()))
    refused = await client.post("/api/v1/payments", json=payment(world_a, 100, day), headers=keyed(world_a.headers()))
    assert refused.status_code == 409
    assert refused.json()["code"] == "period_locked"


# --- found in review -----------------------------------------------------------------------------


async def test_a_line_cannot_be_credited_twice_in_one_note(client: httpx.AsyncClient, world_a: World) -> None:
    november = (await issue(client, world_a))["lines"][2]
    entry = {"invoice_line_id": november["id"], "amount": 25000}
    url = f"/api/v1/invoices/{world_a.invoice.id}/credit-notes"
    refused = await client.post(url, json={"lines": [entry, entry, entry]}, headers=keyed(world_a.headers()))
    assert refused.status_code == 422
    assert "once" in refused.json()["detail"]
    assert await balance(client, world_a) == (TOTAL, 0)


async def test_what_was_written_off_cannot_become_credit(client: httpx.AsyncClient, world_a: World) -> None:
    await issue(client, world_a)
    url = f"/api/v1/invoices/{world_a.invoice.id}"
    ok(await client.post(f"{url}/write-off", json={}, headers=keyed(world_a.headers())), 201)
    refused = await client.post(f"{url}/credit-notes", json={}, headers=keyed(world_a.headers()))
    assert refused.status_code == 409
    assert "written off" in refused.json()["detail"]
    assert await balance(client, world_a) == (0, 0)


async def test_an_invoice_with_a_credit_note_cannot_be_voided(client: httpx.AsyncClient, world_a: World) -> None:
    await issue(client, world_a)
    url = f"/api/v1/invoices/{world_a.invoice.id}"
    ok(await client.post(f"{url}/credit-notes", json={"allocate": False}, headers=keyed(world_a.headers())), 201)
    refused = await client.post(f"{url}/void", json={}, headers=world_a.headers())
    assert refused.status_code == 409


async def test_an_invoice_from_a_locked_period_can_still_be_paid(client: httpx.AsyncClient, world_a: World) -> None:
    day = date.fromisoformat((await issue(client, world_a))["issue_date"])
    ok(await client.patch("/api/v1/tenant", json={"lock_date": day.isoformat()}, headers=world_a.headers()))
    later = (day + timedelta(days=1)).isoformat()
    ok(await client.post("/api/v1/payments", json=payment(world_a, 1000, later), headers=keyed(world_a.headers())), 201)
    assert (await invoice(client, world_a))["status"] == "partially_paid"
    refused = await client.post(f"/api/v1/invoices/{world_a.invoice.id}/void", json={}, headers=world_a.headers())
    assert refused.status_code == 409


async def test_part_of_a_line_is_taxed_as_its_own_line(client: httpx.AsyncClient, world_a: World) -> None:
    november = (await issue(client, world_a))["lines"][2]
    url = f"/api/v1/invoices/{world_a.invoice.id}/credit-notes"
    body = {"lines": [{"invoice_line_id": november["id"], "amount": 502}], "allocate": False}
    note = ok(await client.post(url, json=body, headers=keyed(world_a.headers())), 201)
    assert note["tax_total"] == 100  # 20% of 5.02 is 1.004, rounded on the line as Xero does


async def test_money_in_another_currency_is_never_applied_to_an_invoice(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    issued = await issue(client, world_a)
    await bind_tenant(db, world_a.tenant_id)
    invoice = await db.get_one(Invoice, (world_a.tenant_id, world_a.invoice.id), populate_existing=True)
    with pytest.raises(Conflict, match="is in GBP; EUR cannot be applied"):
        await allocate_to_invoice(db, invoice, 100, date(2026, 11, 21), currency="EUR")
    due = (await LedgerRepository(db, world_a.tenant_id).amounts_due([invoice.id]))[invoice.id]
    assert due == issued["total"]
