"""Bookings, included credits and deposits on invoices, and the tenant's grouping options.

The world's customer (Acme) already holds a hot desk from 15 Oct 2026, billed through November.
Bookings are billed in arrears by the run of the period after the meeting; each is priced
discount first, then included credit, and only the rest is a booking fee."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.billing.engine import bill_location
from app.db.engine import bind_tenant
from app.kit.clock import FrozenClock
from app.state import AppState
from tests.support.api import issue, keyed, ok, revenue_account, tax_account
from tests.support.booking import book, room
from tests.support.worlds import World


async def _no_vat_deposits(client: httpx.AsyncClient, world: World) -> None:
    """Deposits are outside VAT: a 0% rate on the deposits account."""
    exempt = ok(
        await client.post(
            "/api/v1/tax-rates",
            json={"name": "No VAT", "components": [{"name": "None", "percent": "0"}]},
            headers=world.headers(),
        ),
        201,
    )
    await tax_account(client, world, "deposits", exempt["id"])


async def _plan(client: httpx.AsyncClient, world: World, name: str, **fields: Any) -> dict[str, Any]:
    body = {"name": name, "currency": "GBP", **fields}
    plan: dict[str, Any] = ok(await client.post("/api/v1/plans", json=body, headers=world.headers()), 201)
    return plan


async def _hold(
    client: httpx.AsyncClient, world: World, plan: dict[str, Any], start: str, **extra: Any
) -> dict[str, Any]:
    body = {
        "company_id": str(world.company.id),
        "plan_id": plan["id"],
        "location_id": str(world.location.id),
        "start_date": start,
        **extra,
    }
    made: dict[str, Any] = ok(await client.post("/api/v1/memberships", json=body, headers=world.headers()), 201)
    return made


async def _bill(
    client: httpx.AsyncClient, world: World, period: str, *, preview: bool = False, location_id: str | None = None
) -> dict[str, Any]:
    where = location_id or str(world.location.id)
    url = f"/api/v1/locations/{where}/billing/{'preview' if preview else 'run'}"
    response = await client.post(url, json={"period_start": period}, headers=keyed(world.headers()))
    result: dict[str, Any] = ok(response, 200 if preview else 201)
    return result


def _lines(invoice: dict[str, Any], kind: str) -> list[tuple[str, int, int]]:
    return [
        (line["description"], line["line_amount"], line["tax_amount"])
        for line in invoice["lines"]
        if line["explanation"]["kind"] == kind
    ]


async def test_included_credit_pays_bookings_in_the_order_they_took_place(
    client: httpx.AsyncClient, world_a: World
) -> None:
    await tax_account(client, world_a, "booking_fees")
    resident = await _plan(client, world_a, "Resident", price=40000, included_credit=5000)
    await _hold(client, world_a, resident, "2026-11-01")
    boardroom = await room(client, world_a)
    await book(client, world_a, boardroom, "2026-11-20T10:00:00", "2026-11-20T11:00:00")
    first = await book(client, world_a, boardroom, "2026-11-10T10:00:00", "2026-11-10T12:00:00")
    await book(client, world_a, boardroom, "2026-10-20T15:00:00", "2026-10-20T16:00:00")  # before the plan
    december = await _bill(client, world_a, "2026-12-01")
    [invoice] = december["invoices"]
    assert _lines(invoice, "booking") == [
        ("Boardroom, 20 Oct 2026 15:00-16:00 (1 h)", 3000, 600),
        ("Boardroom, 10 Nov 2026 10:00-12:00 (2 h): 50.00 paid by included credit", 1000, 200),
        ("Boardroom, 20 Nov 2026 10:00-11:00 (1 h)", 3000, 600),
    ]
    explained = next(line for line in invoice["lines"] if "included credit" in line["description"])["explanation"]
    assert (explained["price"], explained["credit_available"], explained["credit_used"], explained["fee"]) == (
        6000,
        5000,
        5000,
        1000,
    )
    assert explained["credit_period_start"] == "2026-11-01"
    billed = ok(await client.get(f"/api/v1/bookings/{first['id']}", headers=world_a.headers()))
    assert (billed["status"], billed["credit_used"]) == ("billed", 5000)

    # Billing the period again finds nothing; a booking recorded late for November is billed by
    # the next run, and November's credit is used up.
    assert (await _bill(client, world_a, "2026-12-01"))["invoices"] == []
    await book(client, world_a, boardroom, "2026-11-18T09:00:00", "2026-11-18T10:00:00")
    [january] = (await _bill(client, world_a, "2027-01-01", preview=True))["invoices"]
    assert _lines(january, "booking") == [("Boardroom, 18 Nov 2026 09:00-10:00 (1 h)", 3000, 600)]


async def test_discount_comes_before_credit_and_a_booking_paid_by_credit_has_no_line(
    client: httpx.AsyncClient, world_a: World
) -> None:
    await tax_account(client, world_a, "booking_fees")
    resident = await _plan(client, world_a, "Resident", price=40000, included_credit=5000)
    await _hold(client, world_a, resident, "2026-11-01")
    boardroom = await room(client, world_a, hourly_rate=4000)
    half = ok(
        await client.post(
            "/api/v1/discounts", json={"name": "Half", "kind": "percent", "percent": "50"}, headers=world_a.headers()
        ),
        201,
    )
    covered = await book(
        client, world_a, boardroom, "2026-11-03T10:00:00", "2026-11-03T12:00:00", discount_id=half["id"]
    )
    await book(client, world_a, boardroom, "2026-11-04T10:00:00", "2026-11-04T10:45:00")
    [invoice] = (await _bill(client, world_a, "2026-12-01"))["invoices"]
    # 80.00 less half is 40.00, all paid by credit; 10.00 of credit is left for the 30.00 meeting.
    assert _lines(invoice, "booking") == [
        ("Boardroom, 4 Nov 2026 10:00-10:45 (0.75 h): 10.00 paid by included credit", 2000, 400)
    ]
    billed = ok(await client.get(f"/api/v1/bookings/{covered['id']}", headers=world_a.headers()))
    assert (billed["status"], billed["credit_used"], billed["invoice_line_id"]) == ("billed", 4000, None)


async def test_credit_is_prorated_for_a_membership_that_starts_mid_period(
    client: httpx.AsyncClient, world_a: World
) -> None:
    await tax_account(client, world_a, "booking_fees")
    resident = await _plan(client, world_a, "Resident", price=40000, included_credit=6000)
    await _hold(client, world_a, resident, "2026-11-16", quantity=2)
    boardroom = await room(client, world_a)
    await book(client, world_a, boardroom, "2026-11-20T09:00:00", "2026-11-20T17:00:00")
    [invoice] = (await _bill(client, world_a, "2026-12-01"))["invoices"]
    # Two seats of 60.00 for 15 of 30 days: 60.00 of credit against 8 h at 30.00.
    assert _lines(invoice, "booking") == [
        ("Boardroom, 20 Nov 2026 09:00-17:00 (8 h): 60.00 paid by included credit", 18000, 3600)
    ]


async def test_a_deposit_is_billed_once_with_the_first_cycle(client: httpx.AsyncClient, world_a: World) -> None:
    office = await _plan(client, world_a, "Private office", price=100000, deposit=50000)
    await _hold(client, world_a, office, "2026-11-16")
    preview = await _bill(client, world_a, "2026-12-01", preview=True)
    assert any("Deposits" in problem and "Private office deposit" in problem for problem in preview["problems"])
    assert not any("Private office" in line["description"] for line in preview["invoices"][0]["lines"])

    await _no_vat_deposits(client, world_a)
    [invoice] = (await _bill(client, world_a, "2026-12-01"))["invoices"]
    assert _lines(invoice, "deposit") == [("Deposit, Private office (refundable)", 50000, 0)]
    deposits = await revenue_account(client, world_a, "deposits")
    [line] = [line for line in invoice["lines"] if line["explanation"]["kind"] == "deposit"]
    assert line["revenue_account_id"] == deposits["id"]
    [january] = (await _bill(client, world_a, "2027-01-01", preview=True))["invoices"]
    assert _lines(january, "deposit") == []


async def test_split_grouping_puts_memberships_and_usage_on_separate_invoices(
    client: httpx.AsyncClient, world_a: World
) -> None:
    await tax_account(client, world_a, "booking_fees")
    ok(await client.patch("/api/v1/tenant", json={"invoice_grouping": "split"}, headers=world_a.headers()))
    boardroom = await room(client, world_a)
    await book(client, world_a, boardroom, "2026-11-20T10:00:00", "2026-11-20T11:00:00")
    invoices = (await _bill(client, world_a, "2026-12-01"))["invoices"]
    kinds = sorted(sorted({line["explanation"]["kind"] for line in invoice["lines"]}) for invoice in invoices)
    assert kinds == [["booking"], ["discount", "membership"]]
    ok(await client.patch("/api/v1/tenant", json={"invoice_grouping": "sideways"}, headers=world_a.headers()), 400)


async def _hot_desk_elsewhere(
    client: httpx.AsyncClient, world: World, name: str, code: str, tax_mode: str
) -> dict[str, Any]:
    """Another London location, where the world's customer holds a hot desk from December."""
    place = {"name": name, "code": code, "time_zone": "Europe/London", "country": "GB", "currency": "GBP"}
    location: dict[str, Any] = ok(
        await client.post("/api/v1/locations", json={**place, "tax_mode": tax_mode}, headers=world.headers()), 201
    )
    body = {
        "company_id": str(world.company.id),
        "plan_id": str(world.plan.id),
        "location_id": location["id"],
        "start_date": "2026-12-01",
    }
    ok(await client.post("/api/v1/memberships", json=body, headers=world.headers()), 201)
    return location


async def test_home_location_invoicing_bills_a_company_at_its_home(client: httpx.AsyncClient, world_a: World) -> None:
    headers = world_a.headers()
    annex = await _hot_desk_elsewhere(client, world_a, "Annex", "ANX", "exclusive")
    # Per location (the default), the annex bills its own membership.
    annex_preview = await _bill(client, world_a, "2026-12-01", preview=True, location_id=annex["id"])
    assert len(annex_preview["invoices"]) == 1

    ok(await client.patch("/api/v1/tenant", json={"invoice_location": "home"}, headers=headers))
    assert (await _bill(client, world_a, "2026-12-01", location_id=annex["id"]))["invoices"] == []
    [invoice] = (await _bill(client, world_a, "2026-12-01"))["invoices"]
    assert invoice["location_id"] == str(world_a.location.id)
    memberships = [line for line in invoice["lines"] if line["explanation"]["kind"] == "membership"]
    assert len(memberships) == 2  # the hot desk at home and the one at the annex


async def test_home_location_invoicing_will_not_mix_tax_modes(client: httpx.AsyncClient, world_a: World) -> None:
    headers = world_a.headers()
    await _hot_desk_elsewhere(client, world_a, "Gross Street", "GRS", "inclusive")
    ok(await client.patch("/api/v1/tenant", json={"invoice_location": "home"}, headers=headers))
    result = await _bill(client, world_a, "2026-12-01")
    assert any("supplied at Gross Street" in problem for problem in result["problems"])
    [invoice] = result["invoices"]
    assert len([line for line in invoice["lines"] if line["explanation"]["kind"] == "membership"]) == 1


async def test_a_booking_is_billed_only_once_its_day_has_passed(
    client: httpx.AsyncClient, db: AsyncSession, state: AppState, world_a: World
) -> None:
    await tax_account(client, world_a, "booking_fees")
    boardroom = await room(client, world_a)
    past = await book(client, world_a, boardroom, "2026-11-20T10:00:00", "2026-11-20T11:00:00")
    coming = await book(client, world_a, boardroom, "2026-11-28T10:00:00", "2026-11-28T11:00:00")
    await bind_tenant(db, world_a.tenant_id)
    # Billing December ahead of time, on 21 November.
    outcome = await bill_location(
        db,
        world_a.tenant_id,
        world_a.location,
        date(2026, 12, 1),
        started_by="test",
        issue_invoices=False,
        clock=FrozenClock(datetime(2026, 11, 21, 12, tzinfo=UTC)),
    )
    [lines] = outcome.lines.values()
    assert [line["explanation"]["booking_id"] for line in lines if line["explanation"]["kind"] == "booking"] == [
        past["id"]
    ]
    assert ok(await client.get(f"/api/v1/bookings/{coming['id']}", headers=world_a.headers()))["status"] == "confirmed"


async def test_voiding_an_invoice_gives_its_bookings_back_to_the_next_run(
    client: httpx.AsyncClient, world_a: World
) -> None:
    await tax_account(client, world_a, "booking_fees")
    resident = await _plan(client, world_a, "Resident", price=40000, included_credit=5000)
    await _hold(client, world_a, resident, "2026-11-01")
    boardroom = await room(client, world_a)
    made = await book(client, world_a, boardroom, "2026-11-10T10:00:00", "2026-11-10T12:00:00")
    [invoice] = (await _bill(client, world_a, "2026-12-01"))["invoices"]
    ok(await client.post(f"/api/v1/invoices/{invoice['id']}/void", json={"reason": "wrong"}, headers=world_a.headers()))
    back = ok(await client.get(f"/api/v1/bookings/{made['id']}", headers=world_a.headers()))
    assert (back["status"], back["credit_used"], back["invoice_line_id"]) == ("confirmed", 0, None)
    [again] = (await _bill(client, world_a, "2026-12-01"))["invoices"]
    assert _lines(again, "booking") == [
        ("Boardroom, 10 Nov 2026 10:00-12:00 (2 h): 50.00 paid by included credit", 1000, 200)
    ]


async def test_ending_early_leaves_the_deposit_alone(client: httpx.AsyncClient, world_a: World) -> None:
    await _no_vat_deposits(client, world_a)
    office = await _plan(client, world_a, "Private office", price=93000, deposit=100000)
    membership = await _hold(client, world_a, office, "2026-11-01")
    ok(await client.post(f"/api/v1/invoices/{world_a.invoice.id}/void", headers=world_a.headers()))
    [invoice] = (await _bill(client, world_a, "2026-11-01"))["invoices"]
    issued = ok(await client.post(f"/api/v1/invoices/{invoice['id']}/issue", headers=world_a.headers()))
    ended = await client.patch(
        f"/api/v1/memberships/{membership['id']}", json={"end_date": "2026-11-20"}, headers=world_a.headers()
    )
    assert ended.status_code == 200, ended.text
    after = ok(await client.get(f"/api/v1/invoices/{invoice['id']}", headers=world_a.headers()))
    # 10 of 30 days of 930.00 (310.00) and its VAT (62.00); the 1,000.00 deposit is not touched.
    assert issued["amount_due"] - after["amount_due"] == 31000 + 6200


async def test_ending_twice_credits_each_day_once(client: httpx.AsyncClient, world_a: World) -> None:
    headers = world_a.headers()
    november = await issue(client, world_a)
    url = f"/api/v1/memberships/{world_a.membership.id}"
    ok(await client.patch(url, json={"end_date": "2026-11-25"}, headers=headers))
    ok(await client.patch(url, json={"end_date": "2026-11-20"}, headers=headers))
    after = ok(await client.get(f"/api/v1/invoices/{november['id']}", headers=headers))
    # 5 + 5 of November's 30 days of 218.75: 36.46 twice, with 7.29 VAT each.
    assert november["amount_due"] - after["amount_due"] == 2 * (3646 + 729)


async def test_ending_into_invoiced_days_needs_the_billing_scope(client: httpx.AsyncClient, world_a: World) -> None:
    await issue(client, world_a)
    key = ok(
        await client.post(
            "/api/v1/api-keys",
            json={"name": "Front desk", "scopes": ["companies:read", "companies:write"]},
            headers=world_a.headers(),
        ),
        201,
    )["key"]
    refused = await client.patch(
        f"/api/v1/memberships/{world_a.membership.id}",
        json={"end_date": "2026-11-20"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert refused.status_code == 403
    assert "billing:write" in refused.json()["detail"]
