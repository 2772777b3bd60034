"""A compound-rate invoice pushed to the sandbox over HTTP: Xero works out each line's tax on the
combined rate and splits it between the components, and every figure agrees with ours to the cent."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.integrations.xero import sync
from app.state import AppState
from tests.fixtures.xero import Xero
from tests.support.api import keyed, ok, tax_account
from tests.support.worlds import World
from tests.support.xero import books, docs, full_mapping, mapped


def cents(value: object) -> int:
    return int(Decimal(str(value)).scaleb(2))


async def issued_under(
    client: httpx.AsyncClient,
    world: World,
    xero: Xero,
    db: AsyncSession,
    ours: list[dict[str, Any]],
    theirs: list[dict[str, Any]],
) -> tuple[uuid.UUID, str, dict[str, Any], dict[str, Any]]:
    """December's invoice issued under a rate of components ``ours``, mapped to a Xero rate of
    components ``theirs``: (connection id, Xero organisation id, the Xero rate, the invoice)."""
    headers = world.headers()
    connection_id, org_id = await mapped(client, world, xero, db)
    rate = ok(
        await client.post("/api/v1/tax-rates", json={"name": "Sales tax", "components": ours}, headers=headers), 201
    )
    await tax_account(client, world, "membership_fees", rate["id"])
    await xero.connect([org_id])
    made = await xero.ok("PUT", "TaxRates", {"TaxRates": [{"Name": "Sales tax on Income", "TaxComponents": theirs}]})
    [xero_rate] = made["TaxRates"]
    mapping = await full_mapping(client, world, str(connection_id))
    mapping["tax_types"][rate["id"]] = xero_rate["TaxType"]
    ok(await client.put(f"/api/v1/locations/{world.location.id}/xero", json=mapping, headers=headers))
    readiness = ok(await client.get(f"/api/v1/locations/{world.location.id}/xero/readiness", headers=headers))
    assert readiness["ready"] is True, readiness
    url = f"/api/v1/locations/{world.location.id}/billing/run"
    [made_invoice] = ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(headers)), 201)[
        "invoices"
    ]
    invoice: dict[str, Any] = ok(await client.post(f"/api/v1/invoices/{made_invoice['id']}/issue", headers=headers))
    return connection_id, org_id, xero_rate, invoice


async def test_xero_splits_a_compound_rate_as_we_do(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, org_id, xero_rate, ours = await issued_under(
        client,
        world_a,
        xero,
        db,
        [{"name": "GST", "percent": "5"}, {"name": "QST", "percent": "9.975", "compound": True}],
        [{"Name": "GST", "Rate": Decimal(5)}, {"Name": "QST", "Rate": Decimal("9.975"), "IsCompound": True}],
    )
    assert Decimal(str(xero_rate["EffectiveRate"])) == Decimal("15.4738")  # Xero shows 4 places
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


GST_PST = [{"name": "GST", "percent": "5"}, {"name": "PST", "percent": "7"}]


@pytest.mark.parametrize(
    ("theirs", "status", "error"),
    [
        # 12% either way, but Xero's 6% + 6% would misstate what is owed to each authority.
        (
            [{"Name": "GST", "Rate": Decimal(6)}, {"Name": "PST", "Rate": Decimal(6)}],
            "mismatch",
            "Xero's figures differ: line 1's tax is split GST 12.50, PST 17.50 here, GST 15.00, PST 15.00 in Xero.",
        ),
        # The same components listed in another order split the tax as we do.
        ([{"Name": "PST", "Rate": Decimal(7)}, {"Name": "GST", "Rate": Decimal(5)}], "synced", None),
    ],
)
async def test_each_lines_split_is_checked_against_xeros(
    client: httpx.AsyncClient,
    world_a: World,
    xero: Xero,
    db: AsyncSession,
    state: AppState,
    theirs: list[dict[str, Any]],
    status: str,
    error: str | None,
) -> None:
    connection_id, _, _, ours = await issued_under(client, world_a, xero, db, GST_PST, theirs)
    assert (await sync.drain(state, world_a.tenant_id, connection_id)).stopped is None
    doc = (await docs(db, world_a))["invoice", uuid.UUID(ours["id"])]
    assert (doc.status, doc.error) == (status, error)
