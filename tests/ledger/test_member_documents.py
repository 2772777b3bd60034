"""What members see of their bills, through the member API; and invoice PDFs."""

from __future__ import annotations

from io import BytesIO

import httpx
from pypdf import PdfReader

from tests.conftest import PASSWORD, World, keyed, ok


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
