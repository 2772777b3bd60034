"""Billing through the API: preview, run, idempotency, proration, discounts, tax, numbering, void.

The world's membership (Hot desk, 250.00 a month, 12.5% Founders discount, VAT 20% exclusive)
started on 15 Oct 2026 and was billed by a run for the period opening 1 Nov 2026."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.billing.models import BillingItem
from app.db.engine import bind_tenant
from app.invoice.models import Invoice
from tests.support.api import issue, keyed, ok
from tests.support.worlds import World, location_body


async def _count(db: AsyncSession, world: World, model: type[Invoice] | type[BillingItem]) -> int:
    await bind_tenant(db, world.tenant_id)
    return (await db.execute(select(func.count()).select_from(model))).scalar_one()


async def test_the_first_invoice_prorates_the_partial_month_and_discounts_each_line(
    client: httpx.AsyncClient, world_a: World
) -> None:
    invoice = ok(await client.get(f"/api/v1/invoices/{world_a.invoice.id}", headers=world_a.headers()))
    lines = [
        (line["description"], line["unit_amount"], line["line_amount"], line["tax_amount"]) for line in invoice["lines"]
    ]
    # 17 of October's 31 days: 250.00 x 17 / 31 = 137.0967... -> 137.10; 12.5% of that is 17.1375 -> 17.14.
    assert lines == [
        ("Hot desk, 15 Oct 2026 to 31 Oct 2026 (17 of 31 days)", 13710, 13710, 2742),
        ("Founders: 12.5% off Hot desk", -1714, -1714, -343),
        ("Hot desk, 1 Nov 2026 to 30 Nov 2026", 25000, 25000, 5000),
        ("Founders: 12.5% off Hot desk", -3125, -3125, -625),
    ]
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == (33871, 6774, 40645)
    assert invoice["status"] == "draft"
    assert invoice["number"] is None
    first = invoice["lines"][0]["explanation"]
    assert (first["days"], first["cycle_days"], first["prorated"], first["list_price"]) == (17, 31, True, 25000)
    assert first["period"] == ["2026-10-15", "2026-10-31"]
    assert invoice["lines"][1]["explanation"]["base"] == 13710


async def test_preview_shows_the_next_period_and_writes_nothing(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    before = (await _count(db, world_a, Invoice), await _count(db, world_a, BillingItem))
    url = f"/api/v1/locations/{world_a.location.id}/billing/preview"
    preview = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=world_a.headers()))
    assert preview["preview"] is True
    [invoice] = preview["invoices"]
    assert [line["line_amount"] for line in invoice["lines"]] == [25000, -3125]
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == (21875, 4375, 26250)
    assert (await _count(db, world_a, Invoice), await _count(db, world_a, BillingItem)) == before


async def test_a_run_bills_each_period_once(client: httpx.AsyncClient, db: AsyncSession, world_a: World) -> None:
    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    body = {"period_start": "2026-11-01"}
    again = ok(await client.post(url, json=body, headers=keyed(world_a.headers())), 201)
    assert again["invoices"] == []
    assert again["run"]["invoices_created"] == 0
    assert await _count(db, world_a, BillingItem) == 2  # October's part and November


async def test_issuing_numbers_without_gaps_and_sets_the_due_date(client: httpx.AsyncClient, world_a: World) -> None:
    issued = await issue(client, world_a)
    assert issued["status"] == "issued"
    assert issued["number"] == "MAIN-000001"
    issue_date = date.fromisoformat(issued["issue_date"])
    assert date.fromisoformat(issued["due_date"]) == issue_date + timedelta(days=14)
    twice = await client.post(f"/api/v1/invoices/{world_a.invoice.id}/issue", headers=world_a.headers())
    assert twice.status_code == 409
    # The next invoice of the location takes the next number.
    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    run = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(world_a.headers())), 201)
    [december] = run["invoices"]
    second = ok(await client.post(f"/api/v1/invoices/{december['id']}/issue", headers=world_a.headers()))
    assert second["number"] == "MAIN-000002"


async def test_voiding_the_latest_invoice_lets_the_next_run_bill_it_again(
    client: httpx.AsyncClient, world_a: World
) -> None:
    ok(await client.post(f"/api/v1/invoices/{world_a.invoice.id}/void", headers=world_a.headers()))
    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    rerun = ok(await client.post(url, json={"period_start": "2026-11-01"}, headers=keyed(world_a.headers())), 201)
    [invoice] = rerun["invoices"]
    assert invoice["total"] == 40645


async def test_an_older_invoice_cannot_be_voided_once_later_periods_are_billed(
    client: httpx.AsyncClient, world_a: World
) -> None:
    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(world_a.headers())), 201)
    refused = await client.post(f"/api/v1/invoices/{world_a.invoice.id}/void", headers=world_a.headers())
    assert refused.status_code == 409
    assert "credit note" in refused.json()["detail"]


async def test_an_ending_membership_is_billed_to_its_last_day(client: httpx.AsyncClient, world_a: World) -> None:
    patched = await client.patch(
        f"/api/v1/memberships/{world_a.membership.id}", json={"end_date": "2026-12-10"}, headers=world_a.headers()
    )
    assert patched.status_code == 200, patched.text
    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    run = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(world_a.headers())), 201)
    [invoice] = run["invoices"]
    # 10 of December's 31 days: 250.00 x 10 / 31 = 80.645... -> 80.65; 12.5% -> 10.08.
    assert [(line["line_amount"], line["tax_amount"]) for line in invoice["lines"]] == [(8065, 1613), (-1008, -202)]
    assert "(10 of 31 days)" in invoice["lines"][0]["description"]
    preview = f"/api/v1/locations/{world_a.location.id}/billing/preview"
    later = ok(await client.post(preview, json={"period_start": "2027-01-01"}, headers=world_a.headers()))
    assert later["invoices"] == []


async def test_ending_before_the_billed_days_needs_a_credit_note(client: httpx.AsyncClient, world_a: World) -> None:
    refused = await client.patch(
        f"/api/v1/memberships/{world_a.membership.id}", json={"end_date": "2026-11-10"}, headers=world_a.headers()
    )
    assert refused.status_code == 409
    assert "billed through 30 Nov 2026" in refused.json()["detail"]


async def test_ending_inside_invoiced_periods_credits_the_unused_days(
    client: httpx.AsyncClient, world_a: World
) -> None:
    headers = world_a.headers()
    november = await issue(client, world_a)
    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    [december] = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(headers)), 201)[
        "invoices"
    ]
    ok(await client.post(f"/api/v1/invoices/{december['id']}/issue", headers=headers))

    ended = await client.patch(
        f"/api/v1/memberships/{world_a.membership.id}", json={"end_date": "2026-11-20"}, headers=headers
    )
    assert ended.status_code == 200, ended.text
    # November: 10 of 30 days unused of 250.00 less 12.5% (218.75): 72.92 + 14.58 VAT.
    after = ok(await client.get(f"/api/v1/invoices/{november['id']}", headers=headers))
    assert november["total"] - after["amount_due"] == 7292 + 1458
    # December, billed in advance, is credited whole.
    assert ok(await client.get(f"/api/v1/invoices/{december['id']}", headers=headers))["amount_due"] == 0
    preview = f"/api/v1/locations/{world_a.location.id}/billing/preview"
    assert ok(await client.post(preview, json={"period_start": "2027-01-01"}, headers=headers))["invoices"] == []
    # Moving the end later again bills the days between the old end and the new one.
    ok(
        await client.patch(
            f"/api/v1/memberships/{world_a.membership.id}", json={"end_date": "2026-11-25"}, headers=headers
        )
    )
    [again] = ok(await client.post(preview, json={"period_start": "2026-12-01"}, headers=headers))["invoices"]
    assert again["lines"][0]["description"] == "Hot desk, 21 Nov 2026 to 25 Nov 2026 (5 of 30 days)"


async def test_a_missing_tax_rate_is_reported_and_that_customer_is_not_billed(
    client: httpx.AsyncClient, world_a: World
) -> None:
    headers = world_a.headers()
    account = ok(
        await client.post("/api/v1/revenue-accounts", json={"name": "Parking", "code": "PARK"}, headers=headers), 201
    )
    plan = ok(
        await client.post(
            "/api/v1/plans",
            json={"name": "Parking bay", "currency": "GBP", "price": 5000, "revenue_account_id": account["id"]},
            headers=headers,
        ),
        201,
    )
    ok(
        await client.post(
            "/api/v1/memberships",
            json={
                "company_id": str(world_a.company.id),
                "plan_id": plan["id"],
                "location_id": str(world_a.location.id),
                "start_date": "2026-12-01",
            },
            headers=headers,
        ),
        201,
    )
    url = f"/api/v1/locations/{world_a.location.id}/billing/preview"
    preview = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=headers))
    # The hot desk is billed as usual; the parking bay waits until its tax is set.
    [invoice] = preview["invoices"]
    assert [line["description"] for line in invoice["lines"]] == [
        "Hot desk, 1 Dec 2026 to 31 Dec 2026",
        "Founders: 12.5% off Hot desk",
    ]
    [problem] = preview["problems"]
    assert problem.startswith("Acme Ltd, Parking bay: No tax rate for 'Parking'")


async def test_mismatched_currencies_are_refused(client: httpx.AsyncClient, world_a: World) -> None:
    headers = world_a.headers()
    # A location billing in EUR makes a EUR plan possible; the membership puts it at the GBP one.
    dublin = location_body(
        name="Dublin", code="DUB", time_zone="Europe/Dublin", country="IE", currency="EUR", billing_day=1
    )
    ok(await client.post("/api/v1/locations", json=dublin, headers=headers), 201)
    plan = ok(
        await client.post(
            "/api/v1/plans", json={"name": "Euro desk", "currency": "EUR", "price": 100}, headers=headers
        ),
        201,
    )
    refused = await client.post(
        "/api/v1/memberships",
        json={
            "company_id": str(world_a.company.id),
            "plan_id": plan["id"],
            "location_id": str(world_a.location.id),
            "start_date": "2026-12-01",
        },
        headers=headers,
    )
    assert refused.status_code == 409
    assert "Mismatched currencies" in refused.json()["detail"]


async def test_periods_must_be_billing_dates(client: httpx.AsyncClient, world_a: World) -> None:
    url = f"/api/v1/locations/{world_a.location.id}/billing/preview"
    refused = await client.post(url, json={"period_start": "2026-12-02"}, headers=world_a.headers())
    assert refused.status_code == 409  # the location's billing day
    assert "billing date" in refused.json()["detail"]


async def test_inverted_membership_dates_are_refused(client: httpx.AsyncClient, world_a: World) -> None:
    refused = await client.post(
        "/api/v1/memberships",
        json={
            "company_id": str(world_a.company.id),
            "plan_id": str(world_a.plan.id),
            "location_id": str(world_a.location.id),
            "start_date": "2026-12-10",
            "end_date": "2026-12-01",
        },
        headers=world_a.headers(),
    )
    assert refused.status_code == 422  # an order of two dates: beyond what JSON Schema states
    assert "before start_date" in refused.text


async def test_removing_an_end_date_bills_the_rest_of_the_cut_period(client: httpx.AsyncClient, world_a: World) -> None:
    headers = world_a.headers()
    membership = f"/api/v1/memberships/{world_a.membership.id}"
    ok(await client.patch(membership, json={"end_date": "2026-12-10"}, headers=headers))
    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(headers)), 201)
    ok(await client.patch(membership, json={"end_date": None}, headers=headers))
    preview = f"/api/v1/locations/{world_a.location.id}/billing/preview"
    [invoice] = ok(await client.post(preview, json={"period_start": "2027-01-01"}, headers=headers))["invoices"]
    assert [line["description"] for line in invoice["lines"] if "off" not in line["description"]] == [
        "Hot desk, 11 Dec 2026 to 31 Dec 2026 (21 of 31 days)",
        "Hot desk, 1 Jan 2027 to 31 Jan 2027",
    ]


async def test_a_billed_locations_currency_and_billing_day_are_fixed(client: httpx.AsyncClient, world_a: World) -> None:
    url = f"/api/v1/locations/{world_a.location.id}"
    for change in ({"currency": "EUR"}, {"billing_day": 15}, {"tax_mode": "inclusive"}):
        refused = await client.patch(url, json=change, headers=world_a.headers())
        assert refused.status_code == 409, change
    assert (await client.patch(url, json={"name": "Renamed"}, headers=world_a.headers())).status_code == 200


async def test_a_free_membership_makes_a_paid_invoice(client: httpx.AsyncClient, world_a: World) -> None:
    headers = world_a.headers()
    body = {
        "company_id": str(world_a.company.id),
        "plan_id": str(world_a.plan.id),
        "location_id": str(world_a.location.id),
        "start_date": "2026-12-01",
        "price_override": 0,
    }
    ok(
        await client.patch(
            f"/api/v1/memberships/{world_a.membership.id}", json={"end_date": "2026-11-30"}, headers=headers
        )
    )
    ok(await client.post("/api/v1/memberships", json=body, headers=headers), 201)
    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    [free] = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(headers)), 201)["invoices"]
    issued = ok(await client.post(f"/api/v1/invoices/{free['id']}/issue", headers=headers))
    assert (issued["total"], issued["status"]) == (0, "paid")


async def test_percentages_read_as_people_write_them(client: httpx.AsyncClient, world_a: World) -> None:
    headers = world_a.headers()
    ten = ok(
        await client.post(
            "/api/v1/discounts", json={"name": "Ten", "kind": "percent", "percent": "10"}, headers=headers
        ),
        201,
    )
    ok(
        await client.patch(
            f"/api/v1/memberships/{world_a.membership.id}", json={"discount_id": ten["id"]}, headers=headers
        )
    )
    preview = f"/api/v1/locations/{world_a.location.id}/billing/preview"
    [invoice] = ok(await client.post(preview, json={"period_start": "2026-12-01"}, headers=headers))["invoices"]
    assert invoice["lines"][1]["description"] == "Ten: 10% off Hot desk"
    assert invoice["lines"][0]["explanation"]["tax_percent"] == "20"


async def test_dates_and_numbers_out_of_reason_are_refused(client: httpx.AsyncClient, world_a: World) -> None:
    headers = world_a.headers()
    far = await client.patch(
        f"/api/v1/memberships/{world_a.membership.id}", json={"end_date": "9999-12-31"}, headers=headers
    )
    assert far.status_code == 400
    nan = await client.post(
        "/api/v1/discounts", json={"name": "N", "kind": "percent", "percent": "NaN"}, headers=headers
    )
    assert nan.status_code == 400
    preview = f"/api/v1/locations/{world_a.location.id}/billing/preview"
    assert (await client.post(preview, json={"period_start": "9999-12-01"}, headers=headers)).status_code == 400


async def test_a_location_that_still_bills_cannot_be_closed(client: httpx.AsyncClient, world_a: World) -> None:
    headers = world_a.headers()
    url = f"/api/v1/locations/{world_a.location.id}"
    refused = await client.post(f"{url}/deactivate", headers=headers)
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert "1 running or unbilled memberships" in detail
    assert "1 active companies whose home location it is" in detail
    assert ok(await client.get(url, headers=headers))["active"] is True

    # A membership that ended and was billed to its last day no longer holds a location open.
    place = {"name": "Annex", "code": "ANX", "time_zone": "Europe/London", "country": "GB", "currency": "GBP"}
    place["tax_mode"] = "exclusive"
    annex = ok(await client.post("/api/v1/locations", json=place, headers=headers), 201)
    body = {"company_id": str(world_a.company.id), "plan_id": str(world_a.plan.id), "location_id": annex["id"]}
    ended = {**body, "start_date": "2026-11-01", "end_date": "2026-11-30"}
    closing = ok(await client.post("/api/v1/memberships", json=ended, headers=headers), 201)
    annex_url = f"/api/v1/locations/{annex['id']}"
    still = await client.post(f"{annex_url}/deactivate", headers=headers)
    assert still.status_code == 409
    assert "1 running or unbilled memberships" in still.json()["detail"]
    ok(await client.post(f"{annex_url}/billing/run", json={"period_start": "2026-11-01"}, headers=keyed(headers)), 201)
    assert ok(await client.post(f"{annex_url}/deactivate", headers=headers))["active"] is False
    # Nothing new can start billing at a closed location, nor run on there.
    later = {**body, "start_date": "2027-01-01"}
    assert (await client.post("/api/v1/memberships", json=later, headers=headers)).status_code == 409
    longer = await client.patch(f"/api/v1/memberships/{closing['id']}", json={"end_date": None}, headers=headers)
    assert longer.status_code == 409
    assert "deactivated" in longer.json()["detail"]
    homed = {"legal_name": "Late Ltd", "billing_email": "ap@late.test", "country": "GB", "currency": "GBP"}
    refused = await client.post("/api/v1/companies", json={**homed, "home_location_id": annex["id"]}, headers=headers)
    assert refused.status_code == 409
    assert ok(await client.post(f"{annex_url}/reactivate", headers=headers))["active"] is True


async def test_a_company_comes_back_only_to_an_open_home(client: httpx.AsyncClient, world_a: World) -> None:
    headers = world_a.headers()
    place = {"name": "Loft", "code": "LFT", "time_zone": "Europe/London", "country": "GB", "currency": "GBP"}
    loft = ok(await client.post("/api/v1/locations", json={**place, "tax_mode": "exclusive"}, headers=headers), 201)
    body = {"legal_name": "Gone Ltd", "billing_email": "a@gone.test", "country": "GB", "currency": "GBP"}
    company = ok(
        await client.post("/api/v1/companies", json={**body, "home_location_id": loft["id"]}, headers=headers), 201
    )
    url = f"/api/v1/companies/{company['id']}"
    assert ok(await client.post(f"{url}/deactivate", headers=headers))["active"] is False
    ok(await client.post(f"/api/v1/locations/{loft['id']}/deactivate", headers=headers))

    refused = await client.post(f"{url}/reactivate", headers=headers)
    assert refused.status_code == 409
    assert "home location is deactivated" in refused.json()["detail"]
    assert ok(await client.get(url, headers=headers))["active"] is False

    moved = ok(await client.patch(url, json={"home_location_id": str(world_a.location.id)}, headers=headers))
    assert moved["active"] is False
    assert ok(await client.post(f"{url}/reactivate", headers=headers))["active"] is True
