"""What members see of their bills, through the member API; and invoice PDFs."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

import httpx
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import bind_tenant
from app.invoice.models import Invoice
from app.kit.money import format_amount
from tests.support.api import keyed, ok
from tests.support.web import sign_in
from tests.support.worlds import PASSWORD, World


async def member_headers(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    body = {"organisation": world.slug, "email": world.member.email, "password": PASSWORD}
    token = ok(await client.post("/api/v1/auth/member-tokens", json=body), 201)["token"]
    return {"Authorization": f"Bearer {token}"}


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


async def test_members_see_their_accounts_issued_invoices_only(client: httpx.AsyncClient, world_a: World) -> None:
    me = await member_headers(client, world_a)
    invoice_url = f"/api/v1/me/invoices/{world_a.invoice.id}"
    assert ok(await client.get("/api/v1/me/invoices", headers=me))["data"] == []
    assert (await client.get(invoice_url, headers=me)).status_code == 404  # still a draft
    issued = ok(await client.post(f"/api/v1/invoices/{world_a.invoice.id}/issue", headers=world_a.headers()))
    [listed] = ok(await client.get("/api/v1/me/invoices", headers=me))["data"]
    assert (listed["number"], listed["amount_due"]) == (issued["number"], 40645)
    assert len(ok(await client.get(invoice_url, headers=me))["lines"]) == 4
    assert ok(await client.get("/api/v1/me/balance", headers=me)) == {"outstanding": 40645, "credit": 0}


async def test_members_see_their_credit_notes_and_credit(client: httpx.AsyncClient, world_a: World) -> None:
    ok(await client.post(f"/api/v1/invoices/{world_a.invoice.id}/issue", headers=world_a.headers()))
    note = ok(
        await client.post(
            f"/api/v1/invoices/{world_a.invoice.id}/credit-notes",
            json={"allocate": False},
            headers=keyed(world_a.headers()),
        ),
        201,
    )
    me = await member_headers(client, world_a)
    [listed] = ok(await client.get("/api/v1/me/credit-notes", headers=me))["data"]
    assert (listed["number"], listed["unallocated"]) == (note["number"], 40645)
    assert ok(await client.get("/api/v1/me/balance", headers=me)) == {"outstanding": 40645, "credit": 40645}


async def test_a_member_downloads_the_pdf_of_their_invoice(client: httpx.AsyncClient, world_a: World) -> None:
    issued = ok(await client.post(f"/api/v1/invoices/{world_a.invoice.id}/issue", headers=world_a.headers()))
    me = await member_headers(client, world_a)
    response = await client.get(f"/api/v1/me/invoices/{world_a.invoice.id}/pdf", headers=me)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="{issued["number"]}.pdf"'
    text = pdf_text(response.content)
    assert issued["number"] in text
    assert "Acme Ltd" in text
    assert "406.45 GBP" in text


async def test_an_operator_downloads_any_invoice_even_a_draft(client: httpx.AsyncClient, world_a: World) -> None:
    response = await client.get(f"/api/v1/invoices/{world_a.invoice.id}/pdf", headers=world_a.headers())
    assert response.status_code == 200
    assert "DRAFT" in pdf_text(response.content)


async def test_another_tenants_member_cannot_download_it(
    client: httpx.AsyncClient, world_a: World, world_b: World
) -> None:
    ok(await client.post(f"/api/v1/invoices/{world_a.invoice.id}/issue", headers=world_a.headers()))
    url = f"/api/v1/me/invoices/{world_a.invoice.id}/pdf"
    assert (await client.get(url, headers=await member_headers(client, world_a))).status_code == 200
    other = await member_headers(client, world_b)
    assert (await client.get(url, headers=other)).status_code == 404


async def test_the_portal_shows_the_balance_and_the_latest_invoices_first(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    issued = ok(await client.post(f"/api/v1/invoices/{world_a.invoice.id}/issue", headers=world_a.headers()))
    payment = {
        "company_id": str(world_a.company.id),
        "currency": "GBP",
        "method": "bank_transfer",
        "paid_on": issued["issue_date"],
    }
    # 100.00 paid towards the invoice, then 50.00 more kept as credit on the account.
    part = {**payment, "amount": 10000, "allocations": [{"invoice_id": issued["id"], "amount": 10000}]}
    ok(await client.post("/api/v1/payments", json=part, headers=keyed(world_a.headers())), 201)
    ok(
        await client.post(
            "/api/v1/payments", json={**payment, "amount": 5000, "allocations": []}, headers=keyed(world_a.headers())
        ),
        201,
    )
    # An older invoice of the same account, issued a month before.
    await bind_tenant(db, world_a.tenant_id)
    earlier = date.fromisoformat(issued["issue_date"]) - timedelta(days=31)
    older = Invoice(
        **{
            column: getattr(world_a.invoice, column)
            for column in (
                "tenant_id",
                "location_id",
                "company_id",
                "currency",
                "tax_mode",
                "subtotal",
                "tax_total",
                "total",
            )
        },
        number="OLD-000001",
        status="issued",
        issue_date=earlier,
        due_date=earlier,
    )
    db.add(older)
    await db.commit()

    assert (await sign_in(client, "portal", world_a, world_a.member.email)).status_code == 303
    page = await client.get("/portal/")
    assert page.status_code == 200
    text = page.text
    assert f"To pay</span><strong>{format_amount(issued['total'] - 10000 + older.total, 'GBP')} GBP" in text
    assert "Your credit</span><strong>50.00 GBP" in text
    assert text.index(issued["number"]) < text.index("OLD-000001")  # the latest first
