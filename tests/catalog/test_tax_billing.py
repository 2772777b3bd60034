"""Tax chosen by the billing engine, through the API: a customer's override, a location's policy,
and archived rates refused. The world bills Hot desk at 250.00 a month with 12.5% off; its
membership fees account carries VAT 20%."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.tax import TaxBook
from app.db.engine import bind_tenant
from tests.support.api import ok, revenue_account
from tests.support.worlds import World


async def tax_rate(client: httpx.AsyncClient, world: World, name: str, *components: dict[str, Any]) -> str:
    made = ok(
        await client.post(
            "/api/v1/tax-rates", json={"name": name, "components": list(components)}, headers=world.headers()
        ),
        201,
    )
    rate_id: str = made["id"]
    return rate_id


async def december(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    url = f"/api/v1/locations/{world.location.id}/billing/preview"
    found: dict[str, Any] = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=world.headers()))
    return found


def taxes(invoice: dict[str, Any]) -> list[tuple[int, str, int]]:
    return [(line["line_amount"], line["tax_rate_id"], line["tax_amount"]) for line in invoice["lines"]]


async def set_policy(client: httpx.AsyncClient, world: World, entries: list[dict[str, str]]) -> None:
    url = f"/api/v1/locations/{world.location.id}/tax-policy"
    ok(await client.put(url, json={"entries": entries}, headers=world.headers()))


async def override(client: httpx.AsyncClient, world: World, rate_id: str | None) -> None:
    url = f"/api/v1/companies/{world.company.id}"
    ok(await client.patch(url, json={"tax_rate_id": rate_id}, headers=world.headers()))


async def test_without_overrides_the_account_rate_is_charged(client: httpx.AsyncClient, world_a: World) -> None:
    [invoice] = (await december(client, world_a))["invoices"]
    vat = str(world_a.tax_rate.id)
    assert taxes(invoice) == [(25000, vat, 5000), (-3125, vat, -625)]
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == (21875, 4375, 26250)


async def test_a_location_policy_replaces_the_account_rate_there(client: httpx.AsyncClient, world_a: World) -> None:
    # A compound rate: 5% GST, then 9.975% QST on the price plus the GST: 15.47375% in all.
    gst_qst = await tax_rate(
        client,
        world_a,
        "GST + QST",
        {"name": "GST", "percent": "5"},
        {"name": "QST", "percent": "9.975", "compound": True},
    )
    fees = await revenue_account(client, world_a, "membership_fees")
    await set_policy(client, world_a, [{"revenue_account_id": fees["id"], "tax_rate_id": gst_qst}])
    [invoice] = (await december(client, world_a))["invoices"]
    # 250.00 x 15.47375% = 38.684375 -> 38.68; -31.25 x 15.47375% = -4.83555 -> -4.84.
    assert taxes(invoice) == [(25000, gst_qst, 3868), (-3125, gst_qst, -484)]
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == (21875, 3384, 25259)


async def test_a_policy_for_another_account_leaves_membership_fees_alone(
    client: httpx.AsyncClient, world_a: World
) -> None:
    reduced = await tax_rate(client, world_a, "Reduced 5%", {"name": "VAT", "percent": "5"})
    bookings = await revenue_account(client, world_a, "booking_fees")
    await set_policy(client, world_a, [{"revenue_account_id": bookings["id"], "tax_rate_id": reduced}])
    [invoice] = (await december(client, world_a))["invoices"]
    assert invoice["tax_total"] == 4375


async def test_a_customer_override_comes_before_the_location_policy(client: httpx.AsyncClient, world_a: World) -> None:
    reduced = await tax_rate(client, world_a, "Reduced 5%", {"name": "VAT", "percent": "5"})
    await override(client, world_a, reduced)
    [invoice] = (await december(client, world_a))["invoices"]
    # 5% of 250.00 is 12.50; of -31.25, -1.5625 -> -1.56.
    assert taxes(invoice) == [(25000, reduced, 1250), (-3125, reduced, -156)]
    assert (invoice["tax_total"], invoice["total"]) == (1094, 22969)

    exempt = await tax_rate(client, world_a, "Exempt", {"name": "Exempt", "percent": "0"})
    fees = await revenue_account(client, world_a, "membership_fees")
    await set_policy(client, world_a, [{"revenue_account_id": fees["id"], "tax_rate_id": reduced}])
    await override(client, world_a, exempt)
    [invoice] = (await december(client, world_a))["invoices"]
    assert taxes(invoice) == [(25000, exempt, 0), (-3125, exempt, 0)]
    assert (invoice["tax_total"], invoice["total"]) == (0, 21875)


async def test_an_archived_account_rate_is_refused_not_charged(client: httpx.AsyncClient, world_a: World) -> None:
    ok(await client.post(f"/api/v1/tax-rates/{world_a.tax_rate.id}/archive", headers=world_a.headers()))
    preview = await december(client, world_a)
    assert preview["invoices"] == []
    assert preview["problems"] == [
        "Acme Ltd, Hot desk: The tax rate 'VAT 20%' used for 'Membership fees' is archived. "
        "It is not billed until that is fixed."
    ]


async def test_an_archived_override_is_refused_not_charged(client: httpx.AsyncClient, world_a: World) -> None:
    reduced = await tax_rate(client, world_a, "Reduced 5%", {"name": "VAT", "percent": "5"})
    await override(client, world_a, reduced)
    ok(await client.post(f"/api/v1/tax-rates/{reduced}/archive", headers=world_a.headers()))
    preview = await december(client, world_a)
    assert preview["invoices"] == []
    [problem] = preview["problems"]
    assert "The tax rate 'Reduced 5%' used for 'Membership fees' is archived." in problem


async def test_a_tax_book_is_scoped_by_its_own_queries_not_only_by_row_security(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World, world_b: World
) -> None:
    """Row-level security is the second guard, not the only one: a book asked for one tenant in a
    transaction bound to another comes back empty, never with the bound tenant's rules."""
    for world in (world_a, world_b):
        reduced = await tax_rate(client, world, "Reduced 5%", {"name": "VAT", "percent": "5"})
        fees = await revenue_account(client, world, "membership_fees")
        await set_policy(client, world, [{"revenue_account_id": fees["id"], "tax_rate_id": reduced}])
    for world, other in ((world_a, world_b), (world_b, world_a)):
        await bind_tenant(db, world.tenant_id)
        async with db.begin():
            own = await TaxBook.load(db, world.tenant_id)
            assert world.tax_rate.id in own.rates
            assert own.account_defaults
            assert {location for location, _ in own.policies} == {world.location.id}
            stranger = await TaxBook.load(db, other.tenant_id)
            assert (stranger.rates, stranger.account_defaults, stranger.policies) == ({}, {}, {})
