"""The member's own API, for the mobile apps: ``/api/v1/me``, with member bearer tokens."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from app.auth import service as auth
from app.dependencies import MEMBER_READS, Db, Me, Reads, State, Throttle
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

    @get("/", operation_id="getMe", summary="Get my profile")
    async def get_me(self, db: Db, member: Me) -> MemberOut:
        """The signed-in member's own details: name, e-mail address, phone and location."""
        return to_out(await service.get_self(db, member))

    @patch("/", operation_id="updateMe", summary="Update my profile")
    async def update_me(self, db: Db, member: Me, data: JSONBody[MemberSelfUpdate]) -> MemberOut:
        """Change the member's own `name` or `phone`; nothing else can be changed here."""
        return to_out(await service.update_self(db, member, data))

    @get("/invoices", operation_id="listMyInvoices", summary="List my invoices", dependencies=MEMBER_READS)
    async def my_invoices(
        self, reads: Reads, member: Me, cursor: Cursor = None, limit: Limit = None
    ) -> Page[InvoiceOut]:
        """The invoices of the member's billing account, never drafts, each with `amount_due` in integer minor
        units; oldest first, a page at a time (pass `next_cursor` back as `cursor`). Empty when the member has
        no billing account."""
        page = page_request(cursor, limit)
        rows = await documents.my_invoices(reads, member, page)
        return paginate(listed_out(rows), page, lambda out: out)

    @get("/invoices/{invoice_id:uuid}", operation_id="getMyInvoice", summary="Get one of my invoices")
    async def my_invoice(self, db: Db, member: Me, invoice_id: FromPath[uuid.UUID]) -> InvoiceOut:
        """One invoice of the member's billing account with its lines and `amount_due`. Drafts and other
        accounts' invoices answer 404."""
        return await full_out(db, await documents.my_invoice(db, member, invoice_id))

    @get(
        "/invoices/{invoice_id:uuid}/pdf",
        operation_id="getMyInvoicePdf",
        summary="Download one of my invoices as a PDF",
        media_type="application/pdf",
    )
    async def my_invoice_pdf(self, db: Db, member: Me, invoice_id: FromPath[uuid.UUID]) -> Response[bytes]:
        """One invoice of the member's billing account as a PDF attachment; drafts and other accounts' invoices
        answer 404."""
        invoice = await documents.my_invoice(db, member, invoice_id)
        return pdf_response(await invoice_pdf(db, invoice), pdf_filename(invoice))

    @get("/credit-notes", operation_id="listMyCreditNotes", summary="List my credit notes")
    async def my_credit_notes(
        self, db: Db, member: Me, cursor: Cursor = None, limit: Limit = None
    ) -> Page[CreditNoteOut]:
        """The credit notes of the member's billing account with their lines and what is still unallocated;
        oldest first, a page at a time (pass `next_cursor` back as `cursor`)."""
        page = page_request(cursor, limit)
        rows = await documents.my_credit_notes(db, member, page)
        shown = rows[: page.limit]
        outs = dict(zip([row.id for row in shown], await credit_notes_out(db, shown), strict=True))
        return paginate(rows, page, lambda row: outs[row.id])

    @get("/balance", operation_id="getMyBalance", summary="Get my balance")
    async def my_balance(self, db: Db, member: Me) -> MyBalance:
        """What the member's billing account owes on open invoices and the credit it holds, in minor units;
        both are zero without a billing account."""
        outstanding, credit = await documents.my_balance(db, member)
        return MyBalance(outstanding=outstanding, credit=credit)

    @delete("/token", operation_id="revokeMyToken", summary="Sign out this token")
    async def revoke_my_token(self, db: Db, member: Me, app_state: State) -> None:
        """Revoke the member token this request is made with; it answers 401 from then on. The member's other
        tokens keep working."""
        await auth.revoke_member_token(db, app_state, member)


class MemberTokenController(Controller):
    """Sign-in for the mobile apps: trades a member's password for a bearer token."""

    path = "/auth/member-tokens"
    tags = ["Member: me"]

    @post("/", operation_id="createMemberToken", summary="Sign a member in")
    async def create_member_token(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        app_state: State,
        throttle: Throttle,
        data: JSONBody[MemberTokenCreate],
    ) -> MemberTokenOut:
        """Trade a member's `organisation` (the operator's slug), e-mail address and password for a bearer
        token (`flm_...`) for `/api/v1/me`, valid until `expires_at`. Wrong details answer 401; repeated
        attempts are throttled (429)."""
        credentials = auth.Credentials(data.organisation, data.email, data.password, client_address(request))
        member = await auth.sign_in(db, app_state, throttle, MemberRepository, credentials)
        token, expires_at = await auth.issue_member_token(db, app_state, member, data.device_name)
        return MemberTokenOut(token=token, expires_at=expires_at)
