"""Location mappings and the readiness check, against the organisation's live settings in the
sandbox: what is missing, what Xero archived, tax rates that disagree, currencies not enabled."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import TaxRateComponent
from app.integrations.xero.mapping import percent_of_rate
from app.ledger.models import PAYMENT_METHODS
from app.state import AppState
from tests.fixtures.xero import Xero
from tests.support.api import ok
from tests.support.web import csrf_in
from tests.support.worlds import World
from tests.support.xero import ACCOUNT_CODES, PAYMENTS, connected, full_mapping


async def readiness(client: httpx.AsyncClient, world: World, *, fresh: bool = False) -> dict[str, Any]:
    url = f"/api/v1/locations/{world.location.id}/xero/readiness{'?fresh=true' if fresh else ''}"
    found: dict[str, Any] = ok(await client.get(url, headers=world.headers()))
    return found


def blocking(report: dict[str, Any]) -> list[str]:
    return [p["message"] for p in report["problems"] if p["blocking"]]


async def test_choices_come_from_the_organisation(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession
) -> None:
    connection_id = await connected(client, world_a, xero, db, "Demo Coworking Ltd")
    offered = ok(await client.get(f"/api/v1/xero/connections/{connection_id}/choices", headers=world_a.headers()))
    assert offered["base_currency"] == "GBP"
    codes = {a["code"]: a for a in offered["accounts"]}
    assert codes["210"]["account_class"] == "REVENUE"
    assert codes["260"]["status"] == "ARCHIVED"
    assert codes["090"]["takes_payments"] is True
    assert codes["210"]["takes_payments"] is False
    rates = {t["tax_type"]: t for t in offered["tax_types"]}
    assert rates["OUTPUT2"]["rate"] == "20.0000"
    assert rates["INPUT2"]["for_revenue"] is False
    assert [c["name"] for c in offered["tracking_categories"]] == ["Region"]
    assert {t["name"] for t in offered["branding_themes"]} == {"Standard", "Members"}


async def test_readiness_lists_what_is_missing_then_passes_once_mapped(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession
) -> None:
    unmapped = await readiness(client, world_a)
    assert unmapped["ready"] is False
    assert unmapped["problems"][0]["field"] == "connection_id"

    connection_id = await connected(client, world_a, xero, db, "Demo Coworking Ltd")
    bare = {"connection_id": connection_id}
    ok(await client.put(f"/api/v1/locations/{world_a.location.id}/xero", json=bare, headers=world_a.headers()))
    report = await readiness(client, world_a)
    assert report["ready"] is False
    problems = blocking(report)
    # Our own account codes (MEM, BOOK...) are not in Xero's chart; no tax type chosen yet.
    assert "Membership fees: Xero has no account MEM." in problems
    assert "VAT 20%: no Xero tax type chosen." in problems
    assert "Untaxed lines: no Xero tax type chosen." in problems
    notices = [p for p in report["problems"] if not p["blocking"]]
    # every payment method, and write-offs, wait for an account; none blocks the location
    assert [p["field"].removeprefix("payment_accounts.") for p in notices] == [*PAYMENT_METHODS, "write_off"]

    body = await full_mapping(client, world_a, connection_id)
    saved = ok(await client.put(f"/api/v1/locations/{world_a.location.id}/xero", json=body, headers=world_a.headers()))
    assert saved["tax_types"] == body["tax_types"]
    report = await readiness(client, world_a)
    assert blocking(report) == []
    assert report["ready"] is True
    assert [p["field"] for p in report["problems"]] == [
        "payment_accounts.cash",
        "payment_accounts.cheque",
        "payment_accounts.card_terminal",
        "payment_accounts.write_off",
    ]


async def test_readiness_sees_what_changed_in_xero(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession
) -> None:
    connection_id = await connected(client, world_a, xero, db, "Demo Coworking Ltd")
    body = await full_mapping(client, world_a, connection_id)
    ok(await client.put(f"/api/v1/locations/{world_a.location.id}/xero", json=body, headers=world_a.headers()))
    assert (await readiness(client, world_a))["ready"] is True
    org = next(o for o in await xero.organisations() if o["name"] == "Demo Coworking Ltd")
    await xero.control(
        "POST", f"organisations/{org['id']}", {"archive_accounts": ["210", "091"], "archive_tax_rates": ["OUTPUT2"]}
    )
    assert (await readiness(client, world_a))["ready"] is True  # what was read two minutes ago or less
    report = await readiness(client, world_a, fresh=True)
    assert report["ready"] is False
    problems = blocking(report)
    assert "Membership fees: Xero account 210 (Membership Income) is archived." in problems
    assert "VAT 20%: Xero's 20% (VAT on Income) is archived." in problems
    assert any(p.startswith("Payments by card: Xero account 091 cannot take payments (archived)") for p in problems)


async def test_a_tax_rate_of_another_percentage_or_a_wrong_account_kind_is_flagged(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession
) -> None:
    connection_id = await connected(client, world_a, xero, db, "Demo Coworking Ltd")
    body = await full_mapping(client, world_a, connection_id)
    body["tax_types"][str(world_a.tax_rate.id)] = "RROUTPUT"
    deposits = next(key for key, code in body["account_codes"].items() if code == "835")
    body["account_codes"][deposits] = "200"
    ok(await client.put(f"/api/v1/locations/{world_a.location.id}/xero", json=body, headers=world_a.headers()))
    problems = blocking(await readiness(client, world_a))
    assert "VAT 20% is 20% here but Xero's 5% (VAT on Income) is 5%." in problems
    assert "Deposits: Xero account 200 (Sales) is not a liability account." in problems


async def test_a_currency_the_organisation_does_not_have_is_flagged(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession
) -> None:
    connection_id = await connected(client, world_a, xero, db, "Harbour Desks Pty")
    ok(
        await client.put(
            f"/api/v1/locations/{world_a.location.id}/xero",
            json={"connection_id": connection_id},
            headers=world_a.headers(),
        )
    )
    report = await readiness(client, world_a)
    currency = next(p for p in report["problems"] if p["field"] == "currency")
    assert currency["message"] == "GBP is not enabled in the Xero organisation (its base currency is AUD)."


async def test_bad_mappings_are_refused_and_nothing_is_kept(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession
) -> None:
    connection_id = await connected(client, world_a, xero, db, "Demo Coworking Ltd")
    url = f"/api/v1/locations/{world_a.location.id}/xero"
    headers = world_a.headers()
    cases: list[tuple[dict[str, Any], int]] = [
        ({"connection_id": connection_id, "account_codes": {str(uuid.uuid4()): "200"}}, 404),
        ({"connection_id": connection_id, "tax_types": {"VAT": "OUTPUT2"}}, 400),
        ({"connection_id": connection_id, "tax_types": {str(uuid.uuid4()): "OUTPUT2"}}, 404),
        ({"connection_id": connection_id, "tracking_category_id": "abc"}, 400),
        ({"connection_id": connection_id, "payment_accounts": {"barter": "090"}}, 400),
        ({"connection_id": connection_id, "invoice_status": "PAID"}, 400),
        ({"connection_id": connection_id, "surprise": 1}, 400),
        ({"connection_id": str(uuid.uuid4())}, 404),
    ]
    for body, status in cases:
        response = await client.put(url, json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
    assert (await client.get(url, headers=headers)).status_code == 404
    other_location = await client.put(
        f"/api/v1/locations/{uuid.uuid4()}/xero", json={"connection_id": connection_id}, headers=headers
    )
    assert other_location.status_code == 404


async def test_the_console_maps_a_location_with_choices_from_xero(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id = await connected(client, world_a, xero, db, "Demo Coworking Ltd")
    overview = await client.get("/console/xero")
    assert f'href="/console/locations/{world_a.location.id}/xero"' in overview.text
    page = await client.get(f"/console/locations/{world_a.location.id}/xero")
    assert page.status_code == 200, page.text
    assert "Map this location" in page.text
    first = await client.post(
        f"/console/locations/{world_a.location.id}/xero",
        data={"_csrf_token": csrf_in(page), "connection_id": connection_id},
    )
    assert first.status_code == 303
    page = await client.get(first.headers["location"])
    assert "Saved." in page.text
    assert "Not ready" in page.text
    assert '<option value="210"' in page.text  # Xero's accounts offered as choices
    assert "Old Desk Income" not in page.text or "(archived)" in page.text

    accounts = ok(await client.get("/api/v1/revenue-accounts", headers=world_a.headers()))["data"]
    form = {"_csrf_token": csrf_in(page), "connection_id": connection_id, "invoice_status": "DRAFT"}
    form |= {f"account.{a['id']}": ACCOUNT_CODES[a["kind"]] for a in accounts}
    form |= {f"tax.{world_a.tax_rate.id}": "OUTPUT2", "tax.none": "NONE"}
    form |= {f"payment.{method}": code for method, code in PAYMENTS.items()}
    form |= {"payment.cash": "", "numbering": "xero"}
    saved = await client.post(f"/console/locations/{world_a.location.id}/xero", data=form)
    assert saved.status_code == 303, saved.text
    page = await client.get(saved.headers["location"])
    assert "Ready: documents of this location can go to Xero." in page.text
    mapping = ok(await client.get(f"/api/v1/locations/{world_a.location.id}/xero", headers=world_a.headers()))
    assert mapping["invoice_status"] == "DRAFT"
    assert mapping["numbering"] == "xero"
    assert mapping["payment_accounts"] == PAYMENTS
    assert mapping["tax_types"] == {str(world_a.tax_rate.id): "OUTPUT2", "none": "NONE"}

    refused = await client.post(
        f"/console/locations/{world_a.location.id}/xero",
        data={"_csrf_token": csrf_in(page), "connection_id": connection_id, "invoice_status": "PAID"},
    )
    assert refused.status_code == 422
    assert "invoice_status" in refused.text
    unchanged = ok(await client.get(f"/api/v1/locations/{world_a.location.id}/xero", headers=world_a.headers()))
    assert unchanged == mapping


def test_the_rate_compared_with_xero_is_the_one_billing_charges() -> None:
    def parts(*spec: tuple[str, bool]) -> list[TaxRateComponent]:
        return [TaxRateComponent(name=f"c{i}", percent=Decimal(p), compound=c) for i, (p, c) in enumerate(spec)]

    assert percent_of_rate(parts(("20", False))) == Decimal("20.0000")
    # Components apply in their order: a compound one taxes the net plus the taxes before it only.
    assert percent_of_rate(parts(("5", False), ("10", True), ("2", False))) == Decimal("17.5000")
    assert percent_of_rate(parts(("10", True), ("5", False))) == Decimal("15.0000")
    # Quebec: GST 5% then QST 9.975% on top is 15.47375%, which Xero shows to 4 places.
    assert percent_of_rate(parts(("5", False), ("9.975", True))) == Decimal("15.4738")
