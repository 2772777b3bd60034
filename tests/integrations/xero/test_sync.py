"""The outbound sync against the sandbox over HTTP: what each change of ours becomes in Xero, that
nothing is made twice (re-runs, lost answers, a drain that died), and how refusals are kept."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest
from arq.constants import job_key_prefix
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import bind_tenant
from app.db.session import tenant_transaction
from app.integrations.xero import lookup, sync
from app.integrations.xero.kinds import KINDS
from app.integrations.xero.models import XeroDocument, XeroJournalEntry
from app.integrations.xero.repository import DocumentRepository
from app.integrations.xero.tasks import xero_sweep
from app.integrations.xero.tokens import access, client_of
from app.state import AppState
from tests.fixtures.xero import CLIENT_ID, Xero
from tests.support.api import issue, keyed, ok
from tests.support.web import csrf_in
from tests.support.worker import run_worker
from tests.support.worlds import World
from tests.support.xero import amount, books, docs, full_mapping, mapped, path_of, pay


async def companies(client: httpx.AsyncClient, world: World, names: list[str]) -> list[str]:
    """New billing accounts at the world's location (e-mail ``ap@<second word>.test``): their ids."""
    made = []
    for name in names:
        body = {
            "legal_name": name,
            "billing_email": f"ap@{name.split()[1].lower()}.test",
            "country": "GB",
            "currency": "GBP",
            "home_location_id": str(world.location.id),
        }
        made.append(ok(await client.post("/api/v1/companies", json=body, headers=world.headers()), 201)["id"])
    return made


async def test_an_issued_invoice_reaches_xero_once_with_its_contact_and_our_totals(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, org_id = await mapped(client, world_a, xero, db)
    issued = await issue(client, world_a)

    first = await sync.drain(state, world_a.tenant_id, connection_id)
    assert first.stopped is None
    assert first.synced == 2

    held = await books(xero, org_id)
    [contact] = [c for c in held["Contacts"] if c.get("ContactNumber") == str(world_a.company.id)]
    assert contact["Name"] == world_a.company.legal_name
    [invoice] = held["Invoices"]
    assert invoice["InvoiceNumber"] == issued["number"]
    assert invoice["Contact"]["ContactID"] == contact["ContactID"]
    assert invoice["Status"] == "AUTHORISED"
    assert amount(invoice["Total"]) == Decimal(issued["total"]).scaleb(-2)
    assert amount(invoice["TotalTax"]) == Decimal(issued["tax_total"]).scaleb(-2)

    found = await docs(db, world_a)
    doc = found["invoice", world_a.invoice.id]
    assert (doc.status, doc.xero_id, doc.xero_number) == ("synced", invoice["InvoiceID"], issued["number"])
    assert doc.synced_version == doc.version == 1
    assert found["contact", world_a.company.id].xero_id == contact["ContactID"]

    again = await sync.drain(state, world_a.tenant_id, connection_id)
    assert (again.calls, again.synced) == (0, 0)
    assert len((await books(xero, org_id))["Invoices"]) == 1


async def test_a_contact_already_in_xero_is_matched_by_name_not_made_again(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, org_id = await mapped(client, world_a, xero, db)
    await xero.connect([org_id])
    made = await xero.ok("PUT", "Contacts", {"Contacts": [{"Name": world_a.company.legal_name.upper()}]})
    existing = made["Contacts"][0]["ContactID"]
    await issue(client, world_a)

    await sync.drain(state, world_a.tenant_id, connection_id)

    held = await books(xero, org_id)
    assert [
        c["ContactID"] for c in held["Contacts"] if c["Name"].casefold() == world_a.company.legal_name.casefold()
    ] == [existing]
    [contact] = [c for c in held["Contacts"] if c["ContactID"] == existing]
    assert contact["ContactNumber"] == str(world_a.company.id)  # ours from now on, found by our id
    assert held["Invoices"][0]["Contact"]["ContactID"] == existing


async def test_many_new_contacts_are_matched_against_the_contact_book_read_once(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, org_id = await mapped(client, world_a, xero, db)
    await xero.connect([org_id])
    names = [f"Tenant {n} Ltd" for n in range(6)]
    made = await companies(client, world_a, names)
    # Already in Xero: one by its name, one by its e-mail, one archived with our id.
    existing = [
        {"Name": names[0].upper()},
        {"Name": "Accounts, Tenant One", "EmailAddress": "ap@1.test"},
        {"Name": "Old Tenant 2", "ContactNumber": made[2], "ContactStatus": "ARCHIVED"},
    ]
    ids = [c["ContactID"] for c in (await xero.ok("PUT", "Contacts", {"Contacts": existing}))["Contacts"]]

    report = await sync.drain(state, world_a.tenant_id, connection_id)

    assert (report.calls, report.synced) == (2, 6)  # the book read once, then one call for all
    held = {c["ContactID"]: c for c in (await books(xero, org_id))["Contacts"]}
    found = await docs(db, world_a)
    contacts = [found["contact", uuid.UUID(company)] for company in made]
    assert [c.xero_id for c in contacts[:3]] == ids
    assert len(held) == len(ids) + 3
    assert sorted(c.get("ContactNumber") for c in held.values()) == sorted(made)
    assert held[ids[0]]["Name"] == names[0]  # ours now: named as we name it


@pytest.mark.parametrize(("strangers", "calls"), [(2, 3), (4, 4)])
async def test_a_contact_book_is_read_page_by_page_or_not_at_all_when_look_ups_cost_less(
    client: httpx.AsyncClient,
    world_a: World,
    xero: Xero,
    db: AsyncSession,
    state: AppState,
    monkeypatch: pytest.MonkeyPatch,
    strangers: int,
    calls: int,
) -> None:
    monkeypatch.setattr(lookup, "BOOK_PAGE", 2)  # four new contacts: look-ups would take 2 calls
    connection_id, org_id = await mapped(client, world_a, xero, db)
    await xero.connect([org_id])
    made = await companies(client, world_a, [f"Desk {n} Ltd" for n in range(4)])
    existing = [{"Name": "Desk 3 Ltd"}] + [{"Name": f"Stranger {n}"} for n in range(strangers)]
    [match, *_] = (await xero.ok("PUT", "Contacts", {"Contacts": existing}))["Contacts"]

    report = await sync.drain(state, world_a.tenant_id, connection_id)

    # 3 in Xero: two pages, then the creation; 5: a page shows the book is too long, then the
    # look-ups (by our id, then by name or e-mail), then the creation.
    assert (report.calls, report.synced) == (calls, 4)
    assert (await docs(db, world_a))["contact", uuid.UUID(made[3])].xero_id == match["ContactID"]
    held = (await books(xero, org_id))["Contacts"]
    assert len(held) == len(existing) + 3


async def test_a_lost_answer_is_looked_up_before_anything_is_sent_again(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, org_id = await mapped(client, world_a, xero, db)
    await issue(client, world_a)
    await xero.control("POST", "faults", {"lose_next": 2})  # the contact's answer and the invoice's

    lost = await sync.drain(state, world_a.tenant_id, connection_id)
    assert lost.stopped == "ambiguous"
    doc = (await docs(db, world_a))["contact", world_a.company.id]
    assert (doc.status, doc.in_doubt, doc.error_kind) == ("pending", True, "transient")

    await db.execute(update(XeroDocument).values(next_attempt_at=state.clock.now()))
    await db.commit()
    while (await sync.drain(state, world_a.tenant_id, connection_id)).stopped == "ambiguous":
        await db.execute(update(XeroDocument).values(next_attempt_at=state.clock.now()))
        await db.commit()

    held = await books(xero, org_id)
    assert len([c for c in held["Contacts"] if c.get("ContactNumber") == str(world_a.company.id)]) == 1
    assert len(held["Invoices"]) == 1
    found = await docs(db, world_a)
    assert {(d.status, d.in_doubt) for d in found.values()} == {("synced", False)}
    assert found["invoice", world_a.invoice.id].xero_id == held["Invoices"][0]["InvoiceID"]


async def test_a_drain_that_died_mid_call_leaves_its_documents_in_doubt_for_the_next(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, org_id = await mapped(client, world_a, xero, db)
    await issue(client, world_a)
    assert (await sync.drain(state, world_a.tenant_id, connection_id)).synced == 2
    # A second invoice went out, but its drain died before it could record the answer.
    payment = {"company_id": str(world_a.company.id), "amount": 1000, "currency": "GBP", "method": "bank_transfer"}
    ok(
        await client.post(
            "/api/v1/payments", json=payment | {"paid_on": "2026-11-02"}, headers=keyed(world_a.headers())
        ),
        201,
    )
    claimed = await sync._claim(state, world_a.tenant_id, connection_id, KINDS["payment"])
    assert claimed is not None
    [work] = claimed.works
    granted = await access(state, world_a.tenant_id, connection_id)
    body = work.build(None)
    assert body is not None
    await client_of(state).call(
        granted.token,
        granted.xero_tenant_id,
        "PUT",
        "Payments",
        body={"Payments": [body]},
        params={"summarizeErrors": "false"},
    )
    await db.execute(update(XeroDocument).values(lease_until=state.clock.now()))  # the lease runs out
    await db.commit()

    report = await sync.drain(state, world_a.tenant_id, connection_id)
    assert report.synced == 1
    held = await books(xero, org_id)
    assert len(held["Payments"]) == 1
    assert amount(held["Invoices"][0]["AmountPaid"]) == Decimal("10.00")
    doc = (await docs(db, world_a))["payment", work.object_id]
    assert (doc.status, doc.xero_id) == ("synced", held["Payments"][0]["PaymentID"])


async def test_payments_credit_notes_credit_and_refunds_follow_in_order(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, org_id = await mapped(client, world_a, xero, db)
    issued = await issue(client, world_a)
    total = issued["total"]
    paid = {
        "company_id": str(world_a.company.id),
        "currency": "GBP",
        "method": "bank_transfer",
        "paid_on": "2026-11-03",
    }
    # Pays the invoice and leaves 50.00 of credit.
    ok(
        await client.post("/api/v1/payments", json=paid | {"amount": total + 5000}, headers=keyed(world_a.headers())),
        201,
    )
    # Half the invoice credited: nothing is due on it, so all of it is credit too.
    lines = ok(await client.get(f"/api/v1/invoices/{world_a.invoice.id}", headers=world_a.headers()))["lines"]
    part = {"lines": [{"invoice_line_id": lines[0]["id"], "amount": 1000}], "reason": "Goodwill"}
    note = ok(
        await client.post(
            f"/api/v1/invoices/{world_a.invoice.id}/credit-notes", json=part, headers=keyed(world_a.headers())
        ),
        201,
    )
    refund = {"company_id": str(world_a.company.id), "amount": 6000, "currency": "GBP", "method": "bank_transfer"}
    ok(
        await client.post(
            "/api/v1/refunds", json=refund | {"refunded_on": "2026-11-05"}, headers=keyed(world_a.headers())
        ),
        201,
    )

    report = await sync.drain(state, world_a.tenant_id, connection_id)
    assert report.stopped is None

    found = await docs(db, world_a)
    assert {(kind, d.status) for (kind, _), d in found.items()} == {
        ("contact", "synced"),
        ("invoice", "synced"),
        ("credit_note", "synced"),
        ("overpayment", "synced"),
        ("payment", "synced"),
        ("refund", "synced"),
    }, [(k, d.status, d.error) for k, d in found.items()]
    held = await books(xero, org_id)
    [invoice] = held["Invoices"]
    assert invoice["Status"] == "PAID"
    [credit] = held["CreditNotes"]
    assert credit["CreditNoteNumber"] == note["number"]
    [over] = held["Overpayments"]
    assert amount(over["Total"]) == Decimal("50.00")
    # 60.00 refunded: the oldest credit first (the payment's 50.00), then 10.00 of the credit note.
    assert amount(over["RemainingCredit"]) == 0
    assert amount(credit["RemainingCredit"]) == Decimal(note["total"] - 1000).scaleb(-2)
    assert len((await db.scalars(select(XeroJournalEntry))).all()) == report.calls


async def test_a_refusal_waits_on_the_document_with_xeros_words_and_is_sent_after_the_fix(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, org_id = await mapped(client, world_a, xero, db)
    await xero.control("POST", f"organisations/{org_id}", {"archive_accounts": ["210"]})
    await issue(client, world_a)

    report = await sync.drain(state, world_a.tenant_id, connection_id)
    assert report.refused == 1
    doc = (await docs(db, world_a))["invoice", world_a.invoice.id]
    assert (doc.status, doc.error_kind) == ("invalid", "validation")
    assert doc.error is not None
    assert "210" in doc.error
    assert doc.hint is not None
    assert "active Xero account" in doc.hint
    assert (await books(xero, org_id))["Invoices"] == []

    body = await full_mapping(client, world_a, str(connection_id))
    membership = next(k for k, v in body["account_codes"].items() if v == "210")
    body["account_codes"][membership] = "200"
    ok(await client.put(f"/api/v1/locations/{world_a.location.id}/xero", json=body, headers=world_a.headers()))
    # Saving the mapping was the fix: the refusal is sent again without anyone pressing Sync now.
    doc = (await docs(db, world_a))["invoice", world_a.invoice.id]
    assert (doc.status, doc.next_attempt_at <= state.clock.now()) == ("pending", True)

    await sync.drain(state, world_a.tenant_id, connection_id)
    doc = (await docs(db, world_a))["invoice", world_a.invoice.id]
    assert (doc.status, doc.error) == ("synced", None)
    assert len((await books(xero, org_id))["Invoices"]) == 1


async def test_a_write_off_is_paid_from_the_write_off_account_once_one_is_chosen(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, org_id = await mapped(client, world_a, xero, db)
    issued = await issue(client, world_a)
    await pay(client, world_a, 1000, "2026-11-03")
    url = f"/api/v1/invoices/{world_a.invoice.id}/write-off"
    ok(await client.post(url, json={"reason": "Gone away"}, headers=keyed(world_a.headers())), 201)

    await sync.drain(state, world_a.tenant_id, connection_id)
    found = await docs(db, world_a)
    [written_off] = [d for (kind, _), d in found.items() if kind == "payment" and d.status != "synced"]
    assert (written_off.status, written_off.error) == ("invalid", "No Xero account is chosen for write-offs.")
    assert written_off.hint is not None
    assert "bad-debt" in written_off.hint

    body = await full_mapping(client, world_a, str(connection_id))
    body["payment_accounts"]["write_off"] = "495"
    ok(await client.put(f"/api/v1/locations/{world_a.location.id}/xero", json=body, headers=world_a.headers()))
    await sync.drain(state, world_a.tenant_id, connection_id)

    assert {d.status for d in (await docs(db, world_a)).values()} == {"synced"}
    held = await books(xero, org_id)
    [invoice] = held["Invoices"]
    assert (invoice["Status"], amount(invoice["AmountDue"])) == ("PAID", Decimal(0))
    by_account = {p["Account"]["Code"]: p for p in held["Payments"]}
    assert set(by_account) == {"090", "495"}
    assert amount(by_account["495"]["Amount"]) == Decimal(issued["total"] - 1000).scaleb(-2)
    assert by_account["495"]["Reference"] == "Written off: Gone away"


async def test_a_void_reaches_xero_and_a_later_edit_of_the_company_updates_its_contact(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, org_id = await mapped(client, world_a, xero, db)
    await issue(client, world_a)
    await sync.drain(state, world_a.tenant_id, connection_id)
    ok(await client.post(f"/api/v1/invoices/{world_a.invoice.id}/void", json={}, headers=world_a.headers()))
    change = {"billing_email": "finance@acme.test", "city": "Leeds"}
    ok(await client.patch(f"/api/v1/companies/{world_a.company.id}", json=change, headers=world_a.headers()))

    await sync.drain(state, world_a.tenant_id, connection_id)

    held = await books(xero, org_id)
    assert held["Invoices"][0]["Status"] == "VOIDED"
    [contact] = [c for c in held["Contacts"] if c.get("ContactNumber") == str(world_a.company.id)]
    assert contact["EmailAddress"] == "finance@acme.test"
    assert contact["Addresses"][0]["City"] == "Leeds"
    found = await docs(db, world_a)
    assert found["invoice", world_a.invoice.id].version == 2
    assert found["invoice", world_a.invoice.id].xero_status == "VOIDED"
    assert found["contact", world_a.company.id].synced_version == found["contact", world_a.company.id].version == 2


async def test_nothing_is_noted_for_a_location_not_mapped_to_xero(
    client: httpx.AsyncClient, world_a: World, db: AsyncSession
) -> None:
    await issue(client, world_a)
    assert await docs(db, world_a) == {}


async def test_a_lost_doorbell_only_delays_the_sync_the_sweep_rings_again(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    _, org_id = await mapped(client, world_a, xero, db)
    await issue(client, world_a)  # commits, then rings for the organisation's drain
    queued = await state.redis.zrange(state.settings.worker_queue_name, 0, -1)
    assert [job.decode().split(":")[0] for job in queued] == ["xero.drain"]
    await state.redis.delete(state.settings.worker_queue_name, job_key_prefix + queued[0].decode())  # lost

    await run_worker(state)
    assert {d.status for d in (await docs(db, world_a)).values()} == {"pending"}
    assert await xero_sweep({"state": state}) == 1
    await run_worker(state)
    assert {d.status for d in (await docs(db, world_a)).values()} == {"synced"}
    assert len((await books(xero, org_id))["Invoices"]) == 1
    assert await xero_sweep({"state": state}) == 0


async def test_a_revoked_app_pauses_the_connection_and_a_reconnect_resumes_the_sync(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, org_id = await mapped(client, world_a, xero, db)
    await xero.control("POST", "revoke", {"client_id": CLIENT_ID})  # disconnected inside Xero
    await issue(client, world_a)

    report = await sync.drain(state, world_a.tenant_id, connection_id)
    assert report.stopped == "needs_reconnect"  # 401, then the refresh is refused: the grant is gone
    status = ok(await client.get(f"/api/v1/xero/connections/{connection_id}", headers=world_a.headers()))
    assert status["status"] == "needs_reconnect"
    assert {d.status for d in (await docs(db, world_a)).values()} == {"pending"}
    assert (await sync.drain(state, world_a.tenant_id, connection_id)).calls == 0  # paused: nothing is tried

    page = await client.get("/console/xero")  # the operator, still signed in, reconnects
    started = await client.post("/console/xero/connect", data={"_csrf_token": csrf_in(page)})
    back = await xero.consent_at(str(started.headers["location"]), [org_id])
    assert (await client.get(path_of(back))).status_code == 303
    await sync.drain(state, world_a.tenant_id, connection_id)
    assert {d.status for d in (await docs(db, world_a)).values()} == {"synced"}
    assert len((await books(xero, org_id))["Invoices"]) == 1


async def test_the_api_shows_each_documents_state_link_and_the_journal(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, _ = await mapped(client, world_a, xero, db)
    await issue(client, world_a)
    await sync.drain(state, world_a.tenant_id, connection_id)
    headers = world_a.headers()

    [shown] = ok(await client.get(f"/api/v1/xero/documents/{world_a.invoice.id}", headers=headers))
    assert shown["status"] == "synced"
    assert shown["xero_number"] is not None
    assert "redirecturl=%2FAccountsReceivable%2FView.aspx%3FInvoiceID%3D" + shown["xero_id"] in shown["link"]
    counts = ok(await client.get(f"/api/v1/xero/connections/{connection_id}/sync", headers=headers))["counts"]
    assert counts == {"synced": 2}
    listed = ok(await client.get(f"/api/v1/xero/connections/{connection_id}/documents?kind=invoice", headers=headers))
    assert [d["object_id"] for d in listed["data"]] == [str(world_a.invoice.id)]
    journal = ok(await client.get(f"/api/v1/xero/connections/{connection_id}/journal", headers=headers))["data"]
    assert [(e["method"], e["path"], e["status_code"]) for e in journal][-2:] == [
        ("POST", "Contacts", 200),
        ("POST", "Invoices", 200),
    ]
    assert ok(await client.post(f"/api/v1/xero/documents/{world_a.invoice.id}/sync", headers=headers), 202) == {
        "queued": 0
    }
    bad = await client.get(f"/api/v1/xero/connections/{connection_id}/documents?status=lost", headers=headers)
    assert bad.status_code == 400


async def test_money_on_an_invoice_xero_never_got_is_refused_with_the_reason_not_left_waiting(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    issued = await issue(client, world_a)  # before the location is mapped: Xero never gets it
    connection_id, org_id = await mapped(client, world_a, xero, db)
    await pay(client, world_a, issued["total"], "2026-11-03")

    report = await sync.drain(state, world_a.tenant_id, connection_id)

    assert (report.calls, report.refused) == (0, 1)
    [doc] = (await docs(db, world_a)).values()
    assert (doc.kind, doc.status, doc.error_kind) == ("payment", "invalid", "validation")
    assert doc.error is not None
    assert f"Invoice {issued['number']} is not in this Xero organisation" in doc.error
    assert (await books(xero, org_id))["Payments"] == []


async def test_credit_held_outside_the_organisation_is_refused_when_applied_there(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    # Credit from before the location was mapped: a payment with nothing to pay yet.
    await pay(client, world_a, 1000, "2026-11-01")
    connection_id, org_id = await mapped(client, world_a, xero, db)
    await issue(client, world_a)  # the held credit pays part of it straight away

    report = await sync.drain(state, world_a.tenant_id, connection_id)

    assert report.stopped is None
    found = {kind: doc for (kind, _), doc in (await docs(db, world_a)).items()}
    assert (found["contact"].status, found["invoice"].status) == ("synced", "synced")
    assert (found["allocation"].status, found["allocation"].error_kind) == ("invalid", "validation")
    assert found["allocation"].error is not None
    assert "held in another Xero organisation" in found["allocation"].error
    held = await books(xero, org_id)
    assert held["Overpayments"] == []
    assert amount(held["Invoices"][0]["AmountPaid"]) == 0


async def test_a_claim_takes_one_batch_however_many_documents_are_due(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    connection_id, _ = await mapped(client, world_a, xero, db)
    await bind_tenant(db, world_a.tenant_id)
    due = state.clock.now()
    db.add_all(
        XeroDocument(
            tenant_id=world_a.tenant_id,
            connection_id=connection_id,
            kind="invoice",
            object_id=uuid.uuid4(),
            next_attempt_at=due,
        )
        for _ in range(3 * sync.BATCH + 7)
    )
    await db.commit()

    async with tenant_transaction(state, world_a.tenant_id) as session:
        repo = DocumentRepository(session, world_a.tenant_id)
        first = await repo.claim(connection_id, "invoice", due, sync.BATCH, due + sync.LEASE)
        second = await repo.claim(connection_id, "invoice", due, sync.BATCH, due + sync.LEASE)

    assert len(first) == len(second) == sync.BATCH
    assert not {doc.id for doc in first} & {doc.id for doc in second}
    assert {doc.status for doc in first + second} == {"sending"}


async def test_a_drain_makes_way_after_its_turn_and_comes_back_for_the_rest(
    client: httpx.AsyncClient,
    world_a: World,
    xero: Xero,
    db: AsyncSession,
    state: AppState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection_id, org_id = await mapped(client, world_a, xero, db)
    monkeypatch.setattr(sync, "TURN", 0.0)  # every turn is one batch
    await issue(client, world_a)

    first = await sync.drain(state, world_a.tenant_id, connection_id)
    assert (first.stopped, first.come_back_in, first.synced) == ("turn", 0.0, 1)
    found = await docs(db, world_a)
    assert (found["contact", world_a.company.id].status, found["invoice", world_a.invoice.id].status) == (
        "synced",
        "pending",
    )

    await run_worker(state)  # the doorbell's drain: one batch a turn, back on the queue for each
    assert {d.status for d in (await docs(db, world_a)).values()} == {"synced"}
    assert len((await books(xero, org_id))["Invoices"]) == 1
