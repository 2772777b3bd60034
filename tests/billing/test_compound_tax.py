"""A tax rate of several components (GST + QST, taxed on tax): each line's tax is rounded once on
the combined rate and then split between the components; the split is kept per line and shown in
the preview, the API, the PDF and credit notes, to the cent."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import httpx
from pypdf import PdfReader

from tests.support.api import keyed, ok, tax_account
from tests.support.worlds import World, location_body

GST_QST = {
    "name": "GST + QST",
    "components": [{"name": "GST", "percent": "5"}, {"name": "QST", "percent": "9.975", "compound": True}],
}


def parts(line: dict[str, Any]) -> list[tuple[str, Decimal, bool, int]]:
    return [(p["name"], Decimal(p["percent"]), p["compound"], p["amount"]) for p in line["tax_components"]]


GST = ("GST", Decimal(5), False)
QST = ("QST", Decimal("9.975"), True)


async def compound_rate(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """The GST + QST rate, charged on membership fees from now on."""
    rate: dict[str, Any] = ok(await client.post("/api/v1/tax-rates", json=GST_QST, headers=world.headers()), 201)
    await tax_account(client, world, "membership_fees", rate["id"])
    return rate


async def december(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    """December's invoice of the world's hot desk (250.00 less 12.5%), made by a run."""
    url = f"/api/v1/locations/{world.location.id}/billing/run"
    [made] = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(world.headers())), 201)[
        "invoices"
    ]
    found: dict[str, Any] = ok(await client.get(f"/api/v1/invoices/{made['id']}", headers=world.headers()))
    return found


async def test_the_preview_explains_each_lines_split(client: httpx.AsyncClient, world_a: World) -> None:
    await compound_rate(client, world_a)
    url = f"/api/v1/locations/{world_a.location.id}/billing/preview"
    [invoice] = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=world_a.headers()))["invoices"]
    desk, discount = invoice["lines"]
    assert (desk["line_amount"], desk["tax_amount"]) == (25000, 3868)
    assert parts(desk) == [(*GST, 1250), (*QST, 2618)]
    assert desk["explanation"]["tax_components"] == [
        {"name": "GST", "percent": "5", "compound": False, "amount": 1250},
        {"name": "QST", "percent": "9.975", "compound": True, "amount": 2618},
    ]
    assert desk["explanation"]["tax_percent"] == "15.47375"
    assert (discount["line_amount"], discount["tax_amount"]) == (-3125, -484)
    assert parts(discount) == [(*GST, -156), (*QST, -328)]
    assert invoice["tax_total"] == 3384
    assert [(p["name"], p["amount"]) for p in invoice["tax_by_component"]] == [("GST", 1094), ("QST", 2290)]


async def test_the_invoice_keeps_its_split_and_credit_notes_take_it_back_level(
    client: httpx.AsyncClient, world_a: World
) -> None:
    await compound_rate(client, world_a)
    invoice = await december(client, world_a)
    desk = invoice["lines"][0]
    assert parts(desk) == [(*GST, 1250), (*QST, 2618)]
    assert [(p["name"], p["amount"]) for p in invoice["tax_by_component"]] == [("GST", 1094), ("QST", 2290)]
    # The VAT-only November invoice has nothing to split.
    november = ok(await client.get(f"/api/v1/invoices/{world_a.invoice.id}", headers=world_a.headers()))
    assert all(line["tax_components"] == [] for line in november["lines"])
    assert november["tax_by_component"] == []

    ok(await client.post(f"/api/v1/invoices/{invoice['id']}/issue", headers=world_a.headers()))
    url = f"/api/v1/invoices/{invoice['id']}/credit-notes"
    part = {"lines": [{"invoice_line_id": desk["id"], "amount": 10000}], "allocate": False}
    first = ok(await client.post(url, json=part, headers=keyed(world_a.headers())), 201)
    # 100.00 is taxed on its own: 15.47 -> GST 5.00, QST 10.47.
    assert first["lines"][0]["tax_amount"] == 1547
    assert parts(first["lines"][0]) == [(*GST, 500), (*QST, 1047)]
    second = ok(await client.post(url, json={"allocate": False}, headers=keyed(world_a.headers())), 201)
    # The rest of each line takes what is left of each component: every line ends at zero in both.
    assert [parts(line) for line in second["lines"]] == [[(*GST, 750), (*QST, 1571)], [(*GST, -156), (*QST, -328)]]
    assert [(p["name"], p["amount"]) for p in second["tax_by_component"]] == [("GST", 594), ("QST", 1243)]
    assert second["tax_total"] == 594 + 1243


async def test_the_pdf_shows_each_component_on_the_line_and_in_the_totals(
    client: httpx.AsyncClient, world_a: World
) -> None:
    await compound_rate(client, world_a)
    invoice = await december(client, world_a)
    response = await client.get(f"/api/v1/invoices/{invoice['id']}/pdf", headers=world_a.headers())
    assert response.status_code == 200, response.text
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    flat = " ".join(text.split())
    assert "Tax: GST 5% 12.50 · QST 9.975% (compound) 26.18" in flat
    assert "Tax: GST 5% -1.56 · QST 9.975% (compound) -3.28" in flat
    assert "Tax 33.84 GBP GST 5% 10.94 GBP QST 9.975% (compound) 22.90 GBP" in flat


async def test_prices_that_include_tax_take_the_tax_out_on_the_combined_rate_then_split_it(
    client: httpx.AsyncClient, world_a: World
) -> None:
    """25,000 including GST + QST holds 25,000 x 0.1547375 / 1.1547375 = 3,349.99 of tax: 3,350,
    shared 1,082 and 2,268 in proportion to 5 and 10.47375, as Xero shares it."""
    await compound_rate(client, world_a)
    headers = world_a.headers()
    place = location_body(
        name="Old Port", code="OPT", time_zone="America/Toronto", country="CA", tax_mode="inclusive", billing_day=1
    )
    location = ok(await client.post("/api/v1/locations", json=place, headers=headers), 201)
    company = {
        "legal_name": "Inclusive Ltd",
        "billing_email": "accounts@inclusive.test",
        "country": "CA",
        "currency": "GBP",
        "home_location_id": location["id"],
    }
    made = ok(await client.post("/api/v1/companies", json=company, headers=headers), 201)
    membership = {
        "company_id": made["id"],
        "plan_id": str(world_a.plan.id),
        "location_id": location["id"],
        "start_date": "2026-12-01",
        "discount_id": str(world_a.discount.id),
    }
    ok(await client.post("/api/v1/memberships", json=membership, headers=headers), 201)
    url = f"/api/v1/locations/{location['id']}/billing/run"
    [invoice] = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(headers)), 201)["invoices"]
    invoice = ok(await client.get(f"/api/v1/invoices/{invoice['id']}", headers=headers))
    desk, discount = invoice["lines"]
    assert (desk["line_amount"], desk["tax_amount"]) == (25000, 3350)
    assert parts(desk) == [(*GST, 1082), (*QST, 2268)]
    assert (discount["line_amount"], discount["tax_amount"]) == (-3125, -419)
    assert parts(discount) == [(*GST, -135), (*QST, -284)]
    # Gross prices: the total is what the lines say, the tax inside it.
    assert (invoice["total"], invoice["tax_total"], invoice["subtotal"]) == (21875, 2931, 18944)
    assert [(p["name"], p["amount"]) for p in invoice["tax_by_component"]] == [("GST", 947), ("QST", 1984)]
