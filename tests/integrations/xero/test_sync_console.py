"""What the operator sees of the sync in the console (each organisation's counts, each document's
status, Xero's words and number, a deep link, Sync now), and how a drain whose organisation has
spent its calls for the minute gives its worker back until the next slot opens."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from arq.worker import Retry
from sqlalchemy.ext.asyncio import AsyncSession

from app.integrations.xero import sync
from app.integrations.xero.tasks import DRAIN_COMEBACKS, xero_drain
from app.integrations.xero.throttle import Limits, XeroThrottle
from app.state import AppState
from tests.fixtures.xero import Xero
from tests.support.api import issue, keyed, ok
from tests.support.web import csrf_in
from tests.support.worker import run_worker
from tests.support.worlds import World
from tests.support.xero import books, docs, full_mapping, mapped, pay


async def test_a_refusal_shows_in_the_console_and_sync_now_sends_it_after_the_fix(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, org_id = await mapped(client, world_a, xero, db)
    await xero.control("POST", f"organisations/{org_id}", {"archive_accounts": ["210"]})
    issued = await issue(client, world_a)
    await sync.drain(state, world_a.tenant_id, connection_id)  # the console session is the one that connected

    overview = await client.get("/console/xero")
    assert "1 synced · 0 waiting" in overview.text  # the contact
    assert "1 need attention" in overview.text
    assert f'href="/console/xero/connections/{connection_id}"' in overview.text

    page = await client.get(f"/console/xero/connections/{connection_id}?show=attention")
    assert page.status_code == 200
    assert f"Invoice {issued['number']}" in page.text
    assert "refused by Xero" in page.text
    assert "210" in page.text  # Xero's own message names the account
    assert "active Xero account" in page.text  # and the hint says how to fix it
    assert world_a.company.legal_name not in page.text  # the synced contact is not in this list
    assert "POST Invoices" in page.text  # the journal of calls

    # The fix: the location maps its membership fees to another account; then Sync now.
    body = await full_mapping(client, world_a, str(connection_id))
    membership = next(k for k, v in body["account_codes"].items() if v == "210")
    body["account_codes"][membership] = "200"
    ok(await client.put(f"/api/v1/locations/{world_a.location.id}/xero", json=body, headers=world_a.headers()))
    pressed = await client.post(f"/console/xero/connections/{connection_id}/sync", data={"_csrf_token": csrf_in(page)})
    assert pressed.status_code == 303
    again = await client.get(pressed.headers["location"])
    assert "Sync started: 1 document(s) due now." in again.text

    await run_worker(state)  # the ring reached the queue: the worker's drain sends it
    held = await books(xero, org_id)
    [invoice] = held["Invoices"]
    synced = await client.get(f"/console/xero/connections/{connection_id}?show=synced")
    assert f"Invoice {issued['number']}" in synced.text
    assert f"InvoiceID%3D{invoice['InvoiceID']}" in synced.text  # the deep link into Xero
    assert "Sync now" not in synced.text.split("<tbody>")[1]  # nothing to do for what is synced
    assert "2 synced · 0 waiting" in (await client.get("/console/xero")).text


async def test_sync_now_on_one_document_answers_htmx_with_its_row(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, org_id = await mapped(client, world_a, xero, db)
    await xero.control("POST", f"organisations/{org_id}", {"archive_accounts": ["210"]})
    await issue(client, world_a)
    await sync.drain(state, world_a.tenant_id, connection_id)  # the console session is the one that connected
    page = await client.get(f"/console/xero/connections/{connection_id}")
    doc = (await docs(db, world_a))["invoice", world_a.invoice.id]
    assert f'id="doc-{doc.id}"' in page.text
    refused_version = doc.version

    answer = await client.post(
        f"/console/xero/documents/{world_a.invoice.id}/sync",
        data={"connection_id": str(connection_id)},
        headers={"HX-Request": "true", "x-csrftoken": csrf_in(page)},
    )
    assert answer.status_code == 200
    assert answer.text.strip().startswith(f'<tr id="doc-{doc.id}">')
    assert "Sync requested." in answer.text
    assert "waiting to send" in answer.text
    again = (await docs(db, world_a))["invoice", world_a.invoice.id]
    assert (again.status, again.version) == ("pending", refused_version + 1)  # a new request for Xero


async def test_an_organisation_out_of_calls_hands_its_drain_back_to_the_queue_until_the_next_slot(
    client: httpx.AsyncClient,
    world_a: World,
    xero: Xero,
    db: AsyncSession,
    state: AppState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection_id, org_id = await mapped(client, world_a, xero, db)
    original = state.providers.get(XeroThrottle)
    assert original is not None
    # Three calls a minute: the contact's two look-ups and its creation take them; the invoice waits.
    state.providers.put(XeroThrottle(state.redis, state.settings.redis_key_prefix, Limits(per_minute=3)))
    try:
        await issue(client, world_a)
        # The worker's job sends the contact, then ends at once asking to be put back on the queue
        # for when the slot opens (arq's Retry), so the worker is free meanwhile.
        with pytest.raises(Retry) as handed_back:
            await xero_drain.coroutine({"state": state}, str(world_a.tenant_id), str(connection_id))
        assert handed_back.value.defer_score is not None
        assert 50_000 < handed_back.value.defer_score <= 62_000
        found = await docs(db, world_a)
        assert found["contact", world_a.company.id].status == "synced"
        doc = found["invoice", world_a.invoice.id]
        # Not a failure: nothing to show the operator, no attempt counted, due when the slot opens.
        assert (doc.status, doc.error_kind, doc.error, doc.attempts) == ("pending", None, None, 0)
        assert 50 < (doc.next_attempt_at - state.clock.now()).total_seconds() <= 62

        # Made due now (Sync now), the drain still finds no slot: it makes no call and says when.
        ok(await client.post(f"/api/v1/xero/documents/{world_a.invoice.id}/sync", headers=world_a.headers()), 202)
        report = await sync.drain(state, world_a.tenant_id, connection_id)
        assert (report.calls, report.stopped) == (0, "throttled")
        assert report.come_back_in is not None
        assert 50 < report.come_back_in <= 62

        # The same when its turn ends with that batch: the slot's wait is kept, not "back at once".
        monkeypatch.setattr(sync, "TURN", 0.0)
        ok(await client.post(f"/api/v1/xero/documents/{world_a.invoice.id}/sync", headers=world_a.headers()), 202)
        report = await sync.drain(state, world_a.tenant_id, connection_id)
        assert report.stopped == "throttled"
        assert report.come_back_in is not None
        assert report.come_back_in > 50

        # On its last try the job ends well instead of failing (arq would keep a failed job's id
        # from the sweep's next ring); the sweep rings a fresh one.
        ok(await client.post(f"/api/v1/xero/documents/{world_a.invoice.id}/sync", headers=world_a.headers()), 202)
        last = {"state": state, "job_try": DRAIN_COMEBACKS}
        assert await xero_drain.coroutine(last, str(world_a.tenant_id), str(connection_id)) == 0
    finally:
        state.providers.put(original)
    assert len((await books(xero, org_id))["Invoices"]) == 0


async def test_each_kind_of_document_is_named_in_the_operators_words(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, _ = await mapped(client, world_a, xero, db)
    issued = await issue(client, world_a)
    await pay(client, world_a, issued["total"] + 5000, "2026-11-03")
    refund = {"company_id": str(world_a.company.id), "amount": 2000, "currency": "GBP", "method": "bank_transfer"}
    refund["refunded_on"] = "2026-11-05"
    ok(await client.post("/api/v1/refunds", json=refund, headers=keyed(world_a.headers())), 201)

    page = await client.get(f"/console/xero/connections/{connection_id}")

    assert page.status_code == 200
    for said in (
        world_a.company.legal_name,
        f"Invoice {issued['number']}",
        f"Payment of {Decimal(issued['total']).scaleb(-2)} GBP to invoice {issued['number']} on 2026-11-03",
        f"Credit left by the payment of {Decimal(issued['total'] + 5000).scaleb(-2)} GBP on 2026-11-03",
        "Refund of 20.00 GBP on 2026-11-05",
    ):
        assert said in page.text, said
    assert page.text.count("waiting to send") == 5
