"""Amounts stay within ``MAX_AMOUNT`` wherever they enter (a fee's quantity times its price, a
membership's, a booking's), and a billing run that meets a customer whose invoice would come to
more bills everybody else and says who was left out and why; references that could never bill
(a plan in a currency no location bills, a company billed in another currency than its home
location, one invoice allocated twice in a payment) are refused when they are made."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.billing.models import BillingItem
from app.db.engine import bind_tenant
from app.kit.money import MAX_AMOUNT
from tests.support.api import issue, keyed, ok
from tests.support.worlds import World

RUN_DECEMBER = {"period_start": "2026-12-01"}


def _refused(response: httpx.Response, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    problem: dict[str, Any] = response.json()
    keys = [error.get("key") for error in problem.get("errors") or []]
    assert field in keys or problem["detail"].startswith(f"{field}:"), problem
    return problem


async def _company(client: httpx.AsyncClient, world: World, name: str, **extra: Any) -> dict[str, Any]:
    body = {
        "legal_name": name,
        "billing_email": f"accounts@{name.lower().replace(' ', '')}.test",
        "country": "GB",
        "currency": "GBP",
        "home_location_id": str(world.location.id),
        **extra,
    }
    made: dict[str, Any] = ok(await client.post("/api/v1/companies", json=body, headers=world.headers()), 201)
    return made


async def _plan(client: httpx.AsyncClient, world: World, price: int) -> dict[str, Any]:
    body = {"name": f"Suite {price}", "currency": "GBP", "price": price}
    made: dict[str, Any] = ok(await client.post("/api/v1/plans", json=body, headers=world.headers()), 201)
    return made


async def _member_of(
    client: httpx.AsyncClient, world: World, company: dict[str, Any], plan: dict[str, Any], **extra: Any
) -> httpx.Response:
    body = {
        "company_id": company["id"],
        "plan_id": plan["id"],
        "location_id": str(world.location.id),
        "start_date": "2026-12-01",
        **extra,
    }
    return await client.post("/api/v1/memberships", json=body, headers=world.headers())


async def test_a_fee_over_the_limit_is_refused(client: httpx.AsyncClient, world_a: World) -> None:
    body = {
        "company_id": str(world_a.company.id),
        "location_id": str(world_a.location.id),
        "description": "Typo",
        "unit_amount": MAX_AMOUNT,
        "quantity": 100_000,
        "charge_date": "2026-11-20",
    }
    # A product JSON Schema cannot state: a rule beyond the schema, 422.
    problem = _refused(await client.post("/api/v1/fees", json=body, headers=world_a.headers()), 422, "quantity")
    assert str(MAX_AMOUNT) in str(problem)
    body["quantity"] = 1
    ok(await client.post("/api/v1/fees", json=body, headers=world_a.headers()), 201)


async def test_a_membership_over_the_limit_is_refused(client: httpx.AsyncClient, world_a: World) -> None:
    company = await _company(client, world_a, "Big Corp")
    plan = await _plan(client, world_a, MAX_AMOUNT // 2 + 1)
    # Against the plan's price (stored state): 409.
    _refused(await _member_of(client, world_a, company, plan, quantity=2), 409, "quantity")
    _refused(await _member_of(client, world_a, company, plan, price_override=MAX_AMOUNT, quantity=2), 409, "quantity")
    made = ok(await _member_of(client, world_a, company, plan), 201)
    url = f"/api/v1/memberships/{made['id']}"
    _refused(await client.patch(url, json={"quantity": 2}, headers=world_a.headers()), 409, "quantity")
    ok(await client.patch(url, json={"quantity": 2, "price_override": 100}, headers=world_a.headers()))


async def test_a_booking_over_the_limit_is_refused(client: httpx.AsyncClient, world_a: World) -> None:
    hall = {"location_id": str(world_a.location.id), "name": "Hall", "hourly_rate": 10**12}
    resource = ok(await client.post("/api/v1/resources", json=hall, headers=world_a.headers()), 201)
    body = {
        "resource_id": resource["id"],
        "company_id": str(world_a.company.id),
        "starts_at": "2026-12-02T09:00:00",
        "ends_at": "2026-12-02T20:00:00",
    }
    _refused(await client.post("/api/v1/bookings", json=body, headers=world_a.headers()), 409, "ends_at")
    ok(
        await client.post(
            "/api/v1/bookings", json={**body, "ends_at": "2026-12-02T10:00:00"}, headers=world_a.headers()
        ),
        201,
    )


async def test_a_run_bills_everybody_but_a_customer_over_the_limit(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    """The price is allowed, but with 20% VAT the invoice would hold more than an invoice may: that
    customer is named in the run's problems, nothing of theirs is claimed, and the location's
    other customer is billed as usual; corrected, the next run bills them."""
    await issue(client, world_a)  # November's invoice: December's run bills Acme's next period
    whale = await _company(client, world_a, "Whale Ltd")
    membership = ok(await _member_of(client, world_a, whale, await _plan(client, world_a, MAX_AMOUNT)), 201)

    url = f"/api/v1/locations/{world_a.location.id}/billing"
    preview = ok(await client.post(f"{url}/preview", json=RUN_DECEMBER, headers=world_a.headers()))
    run = ok(await client.post(f"{url}/run", json=RUN_DECEMBER, headers=keyed(world_a.headers())), 201)
    for answer in (preview, run):
        assert [invoice["company_id"] for invoice in answer["invoices"]] == [str(world_a.company.id)]
        [problem] = answer["problems"]
        assert problem.startswith("Whale Ltd: the lines and tax of their invoice come to 120,000,000,000.00 GBP")
        assert "100,000,000,000.00" in problem
    assert run["run"]["problems"] == run["problems"]
    await bind_tenant(db, world_a.tenant_id)
    claimed = select(func.count()).select_from(BillingItem).where(BillingItem.source_id == membership["id"])
    assert (await db.execute(claimed)).scalar_one() == 0

    fixed = {"price_override": 100_000}
    ok(await client.patch(f"/api/v1/memberships/{membership['id']}", json=fixed, headers=world_a.headers()))
    again = ok(await client.post(f"{url}/run", json=RUN_DECEMBER, headers=keyed(world_a.headers())), 201)
    [billed] = again["invoices"]
    assert (billed["company_id"], billed["subtotal"], billed["total"]) == (whale["id"], 100_000, 120_000)
    assert again["problems"] == []


async def test_a_plan_or_discount_in_a_currency_no_location_bills_is_refused(
    client: httpx.AsyncClient, world_a: World
) -> None:
    plan = {"name": "Euro desk", "currency": "EUR", "price": 100}
    problem = _refused(await client.post("/api/v1/plans", json=plan, headers=world_a.headers()), 409, "currency")
    assert "no location bills in EUR" in problem["detail"]
    discount = {"name": "Euro off", "kind": "fixed", "amount": 100, "currency": "EUR"}
    _refused(await client.post("/api/v1/discounts", json=discount, headers=world_a.headers()), 409, "currency")
    ok(await client.post("/api/v1/plans", json={**plan, "currency": "GBP"}, headers=world_a.headers()), 201)


async def test_a_company_is_billed_in_its_home_locations_currency(client: httpx.AsyncClient, world_a: World) -> None:
    body = {
        "legal_name": "Euro Ltd",
        "billing_email": "a@euro.test",
        "country": "GB",
        "currency": "EUR",
        "home_location_id": str(world_a.location.id),
    }
    problem = _refused(await client.post("/api/v1/companies", json=body, headers=world_a.headers()), 409, "currency")
    assert "Main bills in GBP" in problem["detail"]

    euro_place = {
        "name": "Dublin",
        "code": "DUB",
        "time_zone": "Europe/Dublin",
        "country": "IE",
        "currency": "EUR",
        "tax_mode": "exclusive",
        "billing_day": 1,
    }
    dublin = ok(await client.post("/api/v1/locations", json=euro_place, headers=world_a.headers()), 201)
    moved = {"home_location_id": dublin["id"]}
    url = f"/api/v1/companies/{world_a.company.id}"
    _refused(await client.patch(url, json=moved, headers=world_a.headers()), 409, "currency")
    euro = ok(
        await client.post(
            "/api/v1/companies", json={**body, "home_location_id": dublin["id"]}, headers=world_a.headers()
        ),
        201,
    )
    assert euro["currency"] == "EUR"

    # Dublin has no invoices, so its currency could change, but not from under Euro Ltd.
    changed = await client.patch(
        f"/api/v1/locations/{dublin['id']}", json={"currency": "GBP"}, headers=world_a.headers()
    )
    problem = _refused(changed, 409, "currency")
    assert "Euro Ltd" in problem["detail"]


@pytest.mark.parametrize("twice", [True, False])
async def test_one_payment_allocates_to_an_invoice_once(client: httpx.AsyncClient, world_a: World, twice: bool) -> None:
    day = (await issue(client, world_a))["issue_date"]
    allocation = {"invoice_id": str(world_a.invoice.id), "amount": 1000}
    body = {
        "company_id": str(world_a.company.id),
        "amount": 2000,
        "currency": "GBP",
        "method": "bank_transfer",
        "paid_on": day,
        "allocations": [allocation, allocation] if twice else [{**allocation, "amount": 2000}],
    }
    response = await client.post("/api/v1/payments", json=body, headers=keyed(world_a.headers()))
    if twice:
        problem = _refused(response, 422, "allocations")
        assert "appears twice" in str(problem)
    else:
        assert response.status_code == 201, response.text
