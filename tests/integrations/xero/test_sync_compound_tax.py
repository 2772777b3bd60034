"""A compound-rate invoice pushed to the sandbox over HTTP: Xero works out each line's tax on the
combined rate and splits it between the components, and every figure agrees with ours to the cent."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.integrations.xero import sync
from app.state import AppState
from tests.conftest import World, keyed, ok, tax_account
from tests.fixtures.xero import Xero
from tests.integrations.xero.test_mapping import full_mapping
from tests.integrations.xero.test_sync import books, docs, mapped


def cents(value: object) -> int:
    return int(Decimal(str(value)).scaleb(2))


async def test_xero_splits_a_compound_rate_as_we_do(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    headers = world_a.headers()
    connection_id, org_id = await mapped(client, world_a, xero, db)
    body = {
        "name": "GST + QST",
        "components": [{"name": "GST", "percent": "5"}, {"name": "QST", "percent": "9.975", "compound": True}],
    }
    rate = ok(await client.post("/api/v1/tax-rates", json=body, headers=headers), 201)
    await tax_account(client, world_a, "membership_fees", rate["id"])
    await xero.connect([org_id])
    made = await xero.ok(
        "PUT",
        "TaxRates",
        {
            "TaxRates": [
                {
                    "Name": "GST + QST on Income",
                    "TaxComponents": [
                        {"Name": "GST", "Rate": Decimal(5)},
                        {"Name": "QST", "Rate": Decimal("9.975"), "IsCompound": True},
                    ],
                }
            ]
        },
    )
    [xero_rate] = made["TaxRates"]
    assert Decimal(str(xero_rate["EffectiveRate"])) == Decimal("15.4738")  # Xero shows 4 places
    mapping = await full_mapping(client, world_a, str(connection_id))
    mapping["tax_types"][rate["id"]] = xero_rate["TaxType"]
    ok(await client.put(f"/api/v1/locations/{world_a.location.id}/xero", json=mapping, headers=headers))
    readiness = ok(await client.get(f"/api/v1/locations/{world_a.location.id}/xero/readiness", headers=headers))
    assert readiness["ready"] is True, readiness

    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    [made_invoice] = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(headers)), 201)[
        "invoices"
    ]
    ours = ok(await client.post(f"/api/v1/invoices/{made_invoice['id']}/issue", headers=headers))
    drained = await sync.drain(state, world_a.tenant_id, connection_id)
    assert drained.stopped is None

    doc = (await docs(db, world_a))["invoice", uuid.UUID(ours["id"])]
    assert doc.status == "synced", doc.error
    [theirs] = [i for i in (await books(xero, org_id))["Invoices"] if i["InvoiceNumber"] == ours["number"]]
    assert (cents(theirs["SubTotal"]), cents(theirs["TotalTax"]), cents(theirs["Total"])) == (
        ours["subtotal"],
        ours["tax_total"],
        ours["total"],
    )
    assert ours["tax_total"] == 3384
    for line, item in zip(ours["lines"], theirs["LineItems"], strict=True):
        assert cents(item["TaxAmount"]) == line["tax_amount"]
        split = [(part["Name"], cents(part["TaxAmount"])) for part in item["TaxBreakdown"]]
        assert split == [(part["name"], part["amount"]) for part in line["tax_components"]]
    assert [[p["amount"] for p in line["tax_components"]] for line in ours["lines"]] == [[1250, 2618], [-156, -328]]
