"""The member's own API, for the mobile apps: ``/api/v1/me``, with member bearer tokens."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from app.auth import service as auth
from app.dependencies import Db, Me, State, Throttle
from app.invoice.controller import full_out, listed_out, pdf_response
from app.invoice.documents import invoice_pdf, pdf_filename
from app.invoice.schemas import InvoiceOut
from app.kit.pagination import Cursor, Limit, Page, page_request, paginate
from app.kit.request_context import client_address
from app.ledger.controller import credit_notes_out
from app.ledger.schemas import CreditNoteOut
from app.member import documents, service
from app.member.controller import to_out
from app.member.repository import MemberRepository
from app.member.schemas import (
    MemberOut,
    MemberSelfUpdate,
    MemberTokenCreate,
    MemberTokenOut,
    MyBalance,
)


class MeController(Controller):
    path = "/me"
    tags = ["Member: me"]

    @get("/", operation_id="getMe")
    async def get_me(self, db: Db, member: Me) -> MemberOut:
        return to_out(await service.get_self(db, member))

    @patch("/", operation_id="updateMe")
    async def update_me(self, db: Db, member: Me, data: JSONBody[MemberSelfUpdate]) -> MemberOut:
        return to_out(await service.update_self(db, member, data))

    @get("/invoices", operation_id="listMyInvoices")
    async def my_invoices(self, db: Db, member: Me, cursor: Cursor = None, limit: Limit = None) -> Page[InvoiceOut]:
        page = page_request(cursor, limit)
        rows = await documents.my_invoices(db, member, page)
        return paginate(listed_out(rows), page, lambda out: out)

    @get("/invoices/{invoice_id:uuid}", operation_id="getMyInvoice")
    async def my_invoice(self, db: Db, member: Me, invoice_id: FromPath[uuid.UUID]) -> InvoiceOut:
        return await full_out(db, await documents.my_invoice(db, member, invoice_id))

    @get("/invoices/{invoice_id:uuid}/pdf", operation_id="getMyInvoicePdf", media_type="application/pdf")
    async def my_invoice_pdf(self, db: Db, member: Me, invoice_id: FromPath[uuid.UUID]) -> Response[bytes]:
        invoice = await documents.my_invoice(db, member, invoice_id)
        return pdf_response(await invoice_pdf(db, invoice), pdf_filename(invoice))

    @get("/credit-notes", operation_id="listMyCreditNotes")
    async def my_credit_notes(
        self, db: Db, member: Me, cursor: Cursor = None, limit: Limit = None
    ) -> Page[CreditNoteOut]:
        page = page_request(cursor, limit)
        rows = await documents.my_credit_notes(db, member, page)
        shown = rows[: page.limit]
        outs = dict(zip([row.id for row in shown], await credit_notes_out(db, shown), strict=True))
        return paginate(rows, page, lambda row: outs[row.id])

    @get("/balance", operation_id="getMyBalance")
    async def my_balance(self, db: Db, member: Me) -> MyBalance:
        outstanding, credit = await documents.my_balance(db, member)
        return MyBalance(outstanding=outstanding, credit=credit)

    @delete("/token", operation_id="revokeMyToken")
    async def revoke_my_token(self, db: Db, member: Me, app_state: State) -> None:
        await auth.revoke_member_token(db, app_state, member)


class MemberTokenController(Controller):
    """Sign-in for the mobile apps: trades a member's password for a bearer token."""

    path = "/auth/member-tokens"
    tags = ["Member: me"]

    @post("/", operation_id="createMemberToken")
    async def create_member_token(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        app_state: State,
        throttle: Throttle,
        data: JSONBody[MemberTokenCreate],
    ) -> MemberTokenOut:
        credentials = auth.Credentials(data.organisation, data.email, data.password, client_address(request))
        member = await auth.sign_in(db, app_state, throttle, MemberRepository, credentials)
        token, expires_at = await auth.issue_member_token(db, app_state, member, data.device_name)
        return MemberTokenOut(token=token, expires_at=expires_at)
